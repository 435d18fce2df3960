using Kanso.Api.Features.UpdateHabit;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.UpdateHabit;

public sealed class UpdateHabitValidatorTests : ValidatorTest
{
    [Theory]
    [InlineData("{'version':1}")]
    [InlineData("{'version':3,'title':'Run'}")]
    [InlineData("{'version':1,'description':null,'icon':null,'unit':null,'reminder_time':null,'end_date':null,'archived_at':null}")]
    [InlineData("{'version':1,'archived_at':'2026-03-08T07:00:00Z'}")]
    public void Valid_when_version_is_given_and_sent_fields_meet_their_rules(string json)
    {
        var failures = Failures(new UpdateHabitValidator(), json);

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("{}", "version")]
    [InlineData("{'version':null}", "version")]
    [InlineData("{'version':0}", "version")]
    [InlineData("{'version':-1}", "version")]
    [InlineData("{'version':1,'title':null}", "title")]
    [InlineData("{'version':1,'title':' '}", "title")]
    [InlineData("{'version':1,'sort_order':null}", "sort_order")]
    [InlineData("{'version':1,'type':null}", "type")]
    [InlineData("{'version':1,'target_value':null}", "target_value")]
    [InlineData("{'version':1,'frequency_type':null}", "frequency_type")]
    [InlineData("{'version':1,'start_date':null}", "start_date")]
    [InlineData("{'version':1,'reminder_time':'12:5'}", "reminder_time")]
    public void Invalid_when_version_is_missing_or_a_field_that_cannot_be_cleared_is_null(string json, string field)
    {
        var failures = Failures(new UpdateHabitValidator(), json);

        Assert.Equal([field], failures);
    }
}
