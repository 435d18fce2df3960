using Kanso.Api.Features.CreateEntry;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.CreateEntry;

public sealed class CreateEntryValidatorTests : ValidatorTest
{
    private const string Habit = "'habit_id':'0196f7d6-9f3a-7c1b-8e2a-1c2d3e4f5a6b'";

    [Theory]
    [InlineData("{" + Habit + ",'completion_date':'2026-03-08T07:00:00Z'}")]
    [InlineData("{" + Habit + ",'completion_date':'2026-03-08T07:00:00.123456-05:00','value':0,'notes':''}")]
    [InlineData("{" + Habit + ",'completion_date':'2026-03-08T07:00:00Z','value':1000000}")]
    [InlineData("{" + Habit + ",'completion_date':'2026-03-08T07:00:00Z','value':12.75,'id':'0196f7d6-9f3a-7c1b-8e2a-000000000001'}")]
    [InlineData("{" + Habit + ",'completion_date':'2026-03-08T07:00:00Z','version':5,'user_id':'x','created_at':'y','deleted_at':'z'}")]
    public void Valid_when_every_sent_field_meets_its_rule(string json)
    {
        var failures = Failures(new CreateEntryValidator(), json);

        Assert.Empty(failures);
    }

    [Fact]
    public void Valid_when_notes_are_1000_code_points()
    {
        var notes = string.Concat(Enumerable.Repeat("😀", 1000));

        var failures = Failures(new CreateEntryValidator(), $"{{{Habit},'completion_date':'2026-03-08T07:00:00Z','notes':'{notes}'}}");

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("{'completion_date':'2026-03-08T07:00:00Z'}", "habit_id")]
    [InlineData("{'habit_id':null,'completion_date':'2026-03-08T07:00:00Z'}", "habit_id")]
    [InlineData("{" + Habit + "}", "completion_date")]
    [InlineData("{" + Habit + ",'completion_date':null}", "completion_date")]
    [InlineData("{" + Habit + ",'completion_date':'2026-03-08T07:00:00Z','value':null}", "value")]
    [InlineData("{" + Habit + ",'completion_date':'2026-03-08T07:00:00Z','value':-0.5}", "value")]
    [InlineData("{" + Habit + ",'completion_date':'2026-03-08T07:00:00Z','value':1000000.5}", "value")]
    [InlineData("{" + Habit + ",'completion_date':'2026-03-08T07:00:00Z','id':'00000000-0000-0000-0000-000000000000'}", "id")]
    public void Invalid_when_a_field_breaks_its_rule(string json, string field)
    {
        var failures = Failures(new CreateEntryValidator(), json);

        Assert.Equal([field], failures);
    }

    [Fact]
    public void Invalid_when_notes_are_1001_code_points()
    {
        var notes = string.Concat(Enumerable.Repeat("😀", 1001));

        var failures = Failures(new CreateEntryValidator(), $"{{{Habit},'completion_date':'2026-03-08T07:00:00Z','notes':'{notes}'}}");

        Assert.Equal(["notes"], failures);
    }
}
