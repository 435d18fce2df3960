using Kanso.Api.Features.CreateHabit;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.CreateHabit;

public sealed class CreateHabitValidatorTests : ValidatorTest
{
    private static readonly string Chars100 = new('a', 100);
    private static readonly string Emoji100 = string.Concat(Enumerable.Repeat("😀", 100));

    [Theory]
    [InlineData("{'title':'Read'}")]
    [InlineData("{'title':'  Read  ','id':'0196f7d6-9f3a-7c1b-8e2a-1c2d3e4f5a6b'}")]
    [InlineData("{'title':'Read','description':null,'icon':null,'unit':null,'reminder_time':null,'end_date':null,'archived_at':null}")]
    [InlineData("{'title':'Read','description':'d','color':'#abc','icon':'book','sort_order':-3,'type':'numeric','target_value':2.5,'unit':'pages'}")]
    [InlineData("{'title':'Read','color':'#A1B2C3','type':'timer','target_value':1}")]
    [InlineData("{'title':'Read','type':'boolean','target_value':7}")]
    [InlineData("{'title':'Read','frequency_type':'specific_days','weekdays':[6,0,3]}")]
    [InlineData("{'title':'Read','frequency_type':'interval','interval':1}")]
    [InlineData("{'title':'Read','frequency_type':'interval','interval':365}")]
    [InlineData("{'title':'Read','frequency_type':'weekly','times_per_week':1}")]
    [InlineData("{'title':'Read','frequency_type':'weekly','times_per_week':7}")]
    [InlineData("{'title':'Read','reminder_time':'00:00'}")]
    [InlineData("{'title':'Read','reminder_time':'23:59'}")]
    [InlineData("{'title':'Read','start_date':'2026-03-08T07:00:00+01:00','end_date':'2026-04-08T07:00:00Z','archived_at':'2026-03-09T00:00:00Z'}")]
    [InlineData("{'title':'Read','user_id':'someone','version':9,'current_streak':4,'longest_streak':5,'created_at':'x','updated_at':'y','deleted_at':'z','unknown':[1]}")]
    public void Valid_when_every_sent_field_meets_its_rule(string json)
    {
        var failures = Failures(new CreateHabitValidator(), json);

        Assert.Empty(failures);
    }

    [Fact]
    public void Valid_when_title_is_100_characters_or_100_code_points()
    {
        var validator = new CreateHabitValidator();

        Assert.Empty(Failures(validator, $"{{'title':'{Chars100}'}}"));
        Assert.Empty(Failures(validator, $"{{'title':'{Emoji100}'}}"));
        Assert.Empty(Failures(validator, $"{{'title':'   {Chars100}   '}}"));
    }

    [Theory]
    [InlineData("{}", "title")]
    [InlineData("{'title':null}", "title")]
    [InlineData("{'title':''}", "title")]
    [InlineData("{'title':'   '}", "title")]
    [InlineData("{'title':'Read','id':'00000000-0000-0000-0000-000000000000'}", "id")]
    [InlineData("{'title':'Read','color':'red'}", "color")]
    [InlineData("{'title':'Read','color':'#12'}", "color")]
    [InlineData("{'title':'Read','color':'#1234'}", "color")]
    [InlineData("{'title':'Read','color':'#1234567'}", "color")]
    [InlineData("{'title':'Read','color':'#GGG'}", "color")]
    [InlineData("{'title':'Read','color':'abc'}", "color")]
    [InlineData("{'title':'Read','color':'#abc\\n'}", "color")]
    [InlineData("{'title':'Read','sort_order':null}", "sort_order")]
    [InlineData("{'title':'Read','type':null}", "type")]
    [InlineData("{'title':'Read','type':'bool'}", "type")]
    [InlineData("{'title':'Read','type':'Numeric'}", "type")]
    [InlineData("{'title':'Read','target_value':null}", "target_value")]
    [InlineData("{'title':'Read','frequency_type':null}", "frequency_type")]
    [InlineData("{'title':'Read','frequency_type':'monthly'}", "frequency_type")]
    [InlineData("{'title':'Read','weekdays':[7]}", "weekdays")]
    [InlineData("{'title':'Read','weekdays':[-1]}", "weekdays")]
    [InlineData("{'title':'Read','weekdays':[1,1]}", "weekdays")]
    [InlineData("{'title':'Read','interval':0}", "interval")]
    [InlineData("{'title':'Read','interval':366}", "interval")]
    [InlineData("{'title':'Read','times_per_week':0}", "times_per_week")]
    [InlineData("{'title':'Read','times_per_week':8}", "times_per_week")]
    [InlineData("{'title':'Read','reminder_time':'24:00'}", "reminder_time")]
    [InlineData("{'title':'Read','reminder_time':'7:30'}", "reminder_time")]
    [InlineData("{'title':'Read','reminder_time':'07:60'}", "reminder_time")]
    [InlineData("{'title':'Read','reminder_time':'0730'}", "reminder_time")]
    [InlineData("{'title':'Read','reminder_time':'07:30:00'}", "reminder_time")]
    [InlineData("{'title':'Read','start_date':null}", "start_date")]
    public void Invalid_when_a_field_breaks_its_rule(string json, string field)
    {
        var failures = Failures(new CreateHabitValidator(), json);

        Assert.Equal([field], failures);
    }

    [Theory]
    [InlineData("title", 101)]
    [InlineData("description", 501)]
    [InlineData("icon", 51)]
    [InlineData("unit", 21)]
    public void Invalid_when_a_text_is_one_code_point_too_long(string field, int length)
    {
        var json = field == "title"
            ? $"{{'title':'{string.Concat(Enumerable.Repeat("😀", length))}'}}"
            : $"{{'title':'Read','{field}':'{string.Concat(Enumerable.Repeat("😀", length))}'}}";

        var failures = Failures(new CreateHabitValidator(), json);

        Assert.Equal([field], failures);
    }

    [Theory]
    [InlineData("description", 500)]
    [InlineData("icon", 50)]
    [InlineData("unit", 20)]
    public void Valid_when_a_text_is_at_its_limit(string field, int length)
    {
        var failures = Failures(new CreateHabitValidator(), $"{{'title':'Read','{field}':'{new string('x', length)}'}}");

        Assert.Empty(failures);
    }

    [Fact]
    public void Invalid_fields_are_all_reported_at_once()
    {
        var failures = Failures(new CreateHabitValidator(), "{'color':'red','interval':0,'reminder_time':'25:00'}");

        Assert.Equal(["color", "interval", "reminder_time", "title"], failures);
    }
}
