using Kanso.Api.Features.UpdateEntry;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.UpdateEntry;

public sealed class UpdateEntryValidatorTests : ValidatorTest
{
    [Theory]
    [InlineData("{'version':1}")]
    [InlineData("{'version':2,'value':0,'notes':'','completion_date':'2026-03-08T07:00:00+09:00'}")]
    [InlineData("{'version':1,'habit_id':'ignored'}")]
    public void Valid_when_version_is_given_and_sent_fields_meet_their_rules(string json)
    {
        var failures = Failures(new UpdateEntryValidator(), json);

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("{}", "version")]
    [InlineData("{'version':0}", "version")]
    [InlineData("{'version':1,'value':null}", "value")]
    [InlineData("{'version':1,'value':1000001}", "value")]
    [InlineData("{'version':1,'value':-1}", "value")]
    [InlineData("{'version':1,'completion_date':null}", "completion_date")]
    public void Invalid_when_version_is_missing_or_a_field_breaks_its_rule(string json, string field)
    {
        var failures = Failures(new UpdateEntryValidator(), json);

        Assert.Equal([field], failures);
    }
}
