using Kanso.Api.Domain.Records;
using Kanso.Api.Tests.Infrastructure;
using NodaTime;

namespace Kanso.Api.Tests.Features.UpdateHabit;

/// <summary>The rules across fields, checked on the stored habit (or the defaults) with a body applied.</summary>
public sealed class HabitMergeTests : ValidatorTest
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 8, 12, 0);

    [Theory]
    [InlineData("{'title':'Read','frequency_type':'specific_days'}", "weekdays")]
    [InlineData("{'title':'Read','frequency_type':'specific_days','weekdays':[]}", "weekdays")]
    [InlineData("{'title':'Read','frequency_type':'interval'}", "interval")]
    [InlineData("{'title':'Read','frequency_type':'weekly'}", "times_per_week")]
    [InlineData("{'title':'Read','end_date':'2026-03-08T11:59:59Z'}", "end_date")]
    [InlineData("{'title':'Read','start_date':'2026-03-10T00:00:00Z','end_date':'2026-03-09T00:00:00Z'}", "end_date")]
    [InlineData("{'description':'no title'}", "title")]
    [InlineData("{'title':'Read','type':'numeric','target_value':0}", "target_value")]
    [InlineData("{'title':'Read','type':'timer','target_value':0.5}", "target_value")]
    [InlineData("{'title':'Read','type':'numeric','target_value':-1}", "target_value")]
    public void Invalid_when_the_merged_habit_breaks_a_rule_across_fields(string json, string field)
    {
        var merged = HabitValues.Defaults(Now).Apply(Body<HabitFields>(json));

        Assert.Equal([field], merged.Errors()!.Keys);
    }

    [Fact]
    public void Valid_when_end_date_equals_start_date()
    {
        var merged = HabitValues.Defaults(Now).Apply(Body<HabitFields>("{'title':'Read','end_date':'2026-03-08T12:00:00Z'}"));

        Assert.Null(merged.Errors());
    }

    [Fact]
    public void Defaults_are_boolean_daily_target_1_starting_now()
    {
        var merged = HabitValues.Defaults(Now).Apply(Body<HabitFields>("{'title':'  Read  '}")).Normalize();

        Assert.Equal(("Read", "boolean", 1d, "daily", 0, Now), (merged.Title, merged.Type, merged.TargetValue, merged.FrequencyType, merged.SortOrder, merged.StartDate));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(0)]
    [InlineData(-1)]
    public void Boolean_habit_target_is_forced_to_1(double target)
    {
        var values = HabitValues.Defaults(Now).Apply(Body<HabitFields>($"{{'title':'Read','type':'boolean','target_value':{target}}}"));

        Assert.Null(values.Errors());
        Assert.Equal(1, values.Normalize().TargetValue);
    }

    [Fact]
    public void Weekdays_are_stored_sorted_and_other_frequency_parameters_dropped()
    {
        var merged = HabitValues.Defaults(Now)
            .Apply(Body<HabitFields>("{'title':'Read','frequency_type':'specific_days','weekdays':[6,0,3],'interval':4,'times_per_week':2}"))
            .Normalize();

        Assert.Equal(new short[] { 0, 3, 6 }, merged.Weekdays);
        Assert.Null(merged.Interval);
        Assert.Null(merged.TimesPerWeek);
    }

    [Fact]
    public void Absent_fields_keep_the_stored_values_and_null_clears_them()
    {
        var stored = HabitValues.Defaults(Now).Apply(Body<HabitFields>("{'title':'Read','description':'d','icon':'book','unit':'pages','type':'numeric','target_value':3}"));

        var merged = stored.Apply(Body<HabitFields>("{'description':null,'type':'timer'}"));

        Assert.Equal((null, "book", "pages", "timer", 3d), (merged.Description, merged.Icon, merged.Unit, merged.Type, merged.TargetValue));
    }

    [Fact]
    public void Changing_the_frequency_needs_its_own_parameter_from_the_body_or_the_stored_habit()
    {
        var stored = HabitValues.Defaults(Now).Apply(Body<HabitFields>("{'title':'Read','frequency_type':'weekly','times_per_week':3}"));

        var toInterval = stored.Apply(Body<HabitFields>("{'frequency_type':'interval'}"));
        var backToWeekly = stored.Apply(Body<HabitFields>("{'frequency_type':'weekly'}"));

        Assert.Equal(["interval"], toInterval.Errors()!.Keys);
        Assert.Null(backToWeekly.Errors());
    }
}
