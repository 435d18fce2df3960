using System.Net.Http.Json;
using Dapper;
using Kanso.Api.Tests.Infrastructure;
using NodaTime;

namespace Kanso.Api.Tests.Features.CreateHabit;

public sealed class CreateHabitTests(ApiFixture fixture) : ApiTest(fixture)
{
    private static readonly string[] ContractFields =
    [
        "id", "title", "description", "color", "icon", "sort_order", "type", "target_value", "unit", "goal", "frequency_type", "weekdays",
        "interval", "times_per_week", "reminder_time", "start_date", "end_date", "archived_at", "current_streak", "longest_streak",
        "version", "created_at", "updated_at", "deleted_at",
    ];

    [Fact]
    public async Task Created_with_version_1_and_defaults_when_only_a_title_is_given()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 8, 12, 30, 15) + Duration.FromNanoseconds(123_456_789));
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", new { title = "  Read  " });

        var body = (await response.ShouldBeAsync(201)).AsObject();
        Assert.Equal(ContractFields, body.Select(p => p.Key));
        Assert.Equal($"/api/v1/habits/{body["id"]}", response.Headers.Location?.ToString());
        Assert.Equal("Read", (string?)body["title"]);
        Assert.Equal(1, (int)body["version"]!);
        Assert.Equal("boolean", (string?)body["type"]);
        Assert.Equal(1, (double)body["target_value"]!);
        Assert.Equal("daily", (string?)body["frequency_type"]);
        Assert.Equal(0, (int)body["sort_order"]!);
        Assert.Equal("2026-03-08T12:30:15.123456Z", (string?)body["start_date"]);
        Assert.Equal((string?)body["created_at"], (string?)body["updated_at"]);
        Assert.Null(body["deleted_at"]);
        Assert.Equal(0, (int)body["current_streak"]!);
    }

    [Fact]
    public async Task Created_with_the_client_id_and_every_field_stored()
    {
        var user = await CreateUserAsync();
        var id = Guid.NewGuid();

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", new
        {
            id,
            title = "Pages",
            description = "Read daily",
            color = "#4A90E2",
            icon = "book",
            sort_order = 3,
            type = "numeric",
            target_value = 20,
            unit = "pages",
            frequency_type = "interval",
            interval = 2,
            reminder_time = "07:30",
            start_date = "2026-03-08T07:00:00+01:00",
            end_date = "2026-12-31T00:00:00Z",
        });

        var body = (await response.ShouldBeAsync(201)).AsObject();
        Assert.Equal(id.ToString(), (string?)body["id"]);
        Assert.Equal(("Read daily", "#4A90E2", "book", 3, "numeric", 20d, "pages"), ((string?)body["description"], (string?)body["color"], (string?)body["icon"], (int)body["sort_order"]!, (string?)body["type"], (double)body["target_value"]!, (string?)body["unit"]));
        Assert.Equal(("interval", 2, "07:30"), ((string?)body["frequency_type"], (int)body["interval"]!, (string?)body["reminder_time"]));
        Assert.Equal(("2026-03-08T06:00:00.000000Z", "2026-12-31T00:00:00.000000Z"), ((string?)body["start_date"], (string?)body["end_date"]));
    }

    [Fact]
    public async Task Created_with_target_1_weekdays_sorted_and_only_the_own_frequency_parameter()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", new
        {
            title = "Gym",
            type = "boolean",
            target_value = 5,
            frequency_type = "specific_days",
            weekdays = new[] { 5, 1, 3 },
            interval = 4,
            times_per_week = 2,
        });

        var body = (await response.ShouldBeAsync(201)).AsObject();
        Assert.Equal(1, (double)body["target_value"]!);
        Assert.Equal("[1,3,5]", body["weekdays"]!.ToJsonString());
        Assert.Null(body["interval"]);
        Assert.Null(body["times_per_week"]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0.5)]
    [InlineData(-1)]
    public async Task Created_with_target_1_whatever_target_a_boolean_habit_is_sent(double target)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", new { title = "Meditate", type = "boolean", target_value = target });

        Assert.Equal(1, (double)(await response.ShouldBeAsync(201))["target_value"]!);
    }

    [Fact]
    public async Task Created_ignoring_server_owned_and_unknown_fields()
    {
        var user = await CreateUserAsync();
        var other = await CreateUserAsync();

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", new
        {
            title = "Read",
            user_id = other.Id,
            version = 7,
            current_streak = 9,
            longest_streak = 12,
            created_at = "2020-01-01T00:00:00Z",
            updated_at = "2020-01-01T00:00:00Z",
            deleted_at = "2020-01-01T00:00:00Z",
            something_new = new { nested = true },
        });

        var body = (await response.ShouldBeAsync(201)).AsObject();
        Assert.Equal((1, 0, 0), ((int)body["version"]!, (int)body["current_streak"]!, (int)body["longest_streak"]!));
        Assert.Null(body["deleted_at"]);
        Assert.NotEqual("2020-01-01T00:00:00.000000Z", (string?)body["created_at"]);
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(user.Id, await db.ExecuteScalarAsync<Guid>("SELECT user_id FROM habits WHERE id = @id", new { id = Guid.Parse((string)body["id"]!) }));
    }

    [Fact]
    public async Task Created_row_carries_the_users_new_change_number()
    {
        var user = await CreateUserAsync();

        var body = await user.Client.CreateHabitAsync();

        await using var db = await OpenDatabaseAsync();
        var (rowSeq, userSeq) = await db.QuerySingleAsync<(long, long)>(
            "SELECT h.change_seq, u.change_seq FROM habits h JOIN users u ON u.id = h.user_id WHERE h.id = @id", new { id = Guid.Parse((string)body["id"]!) });
        Assert.Equal((1L, 1L), (rowSeq, userSeq));
    }

    [Fact]
    public async Task Ok_with_the_stored_copy_and_nothing_changed_when_the_create_is_retried()
    {
        var user = await CreateUserAsync();
        var id = Guid.NewGuid();
        var first = await user.Client.PostAsJsonAsync("/api/v1/habits", new { id, title = "Read" });
        var created = await first.ShouldBeAsync(201);

        var retried = await user.Client.PostAsJsonAsync("/api/v1/habits", new { id, title = "Something else", color = "#fff" });

        var body = await retried.ShouldBeAsync(200);
        Assert.Equal(created.ToJsonString(), body.ToJsonString());
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(1, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habits WHERE user_id = @userId", new { userId = user.Id }));
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @userId", new { userId = user.Id }));
    }

    [Fact]
    public async Task Ok_with_the_tombstone_when_the_id_was_deleted()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();
        await user.Client.DeleteAsync($"/api/v1/habits/{id}");

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", new { id, title = "Read again" });

        var body = (await response.ShouldBeAsync(200)).AsObject();
        Assert.NotNull((string?)body["deleted_at"]);
        Assert.Equal(2, (int)body["version"]!);
        Assert.Equal("Read", (string?)body["title"]);
    }

    [Fact]
    public async Task Created_as_separate_records_when_two_users_use_the_same_id()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var id = Guid.NewGuid();

        var forAlice = await alice.Client.PostAsJsonAsync("/api/v1/habits", new { id, title = "Alice's" });
        var forBob = await bob.Client.PostAsJsonAsync("/api/v1/habits", new { id, title = "Bob's" });

        await forAlice.ShouldBeAsync(201);
        await forBob.ShouldBeAsync(201);
        Assert.Equal("Alice's", (string?)(await (await alice.Client.GetAsync($"/api/v1/habits/{id}")).ShouldBeAsync(200))["title"]);
        Assert.Equal("Bob's", (string?)(await (await bob.Client.GetAsync($"/api/v1/habits/{id}")).ShouldBeAsync(200))["title"]);
    }

    [Fact]
    public async Task Created_with_a_server_generated_id_for_each_create_without_an_id()
    {
        var user = await CreateUserAsync();

        var first = await user.Client.CreateHabitAsync();
        var second = await user.Client.CreateHabitAsync();

        Assert.NotEqual((string?)first["id"], (string?)second["id"]);
    }

    [Theory]
    [InlineData("""{"title":"Read","frequency_type":"specific_days"}""", "weekdays")]
    [InlineData("""{"title":"Read","frequency_type":"specific_days","weekdays":[]}""", "weekdays")]
    [InlineData("""{"title":"Read","frequency_type":"interval"}""", "interval")]
    [InlineData("""{"title":"Read","frequency_type":"weekly"}""", "times_per_week")]
    [InlineData("""{"title":"Read","start_date":"2026-03-08T00:00:00Z","end_date":"2026-03-07T23:59:59Z"}""", "end_date")]
    [InlineData("""{"title":" "}""", "title")]
    [InlineData("""{"description":"no title"}""", "title")]
    [InlineData("""{"title":null}""", "title")]
    [InlineData("""{"title":"Read","color":"blue"}""", "color")]
    [InlineData("""{"title":"Read","sort_order":null}""", "sort_order")]
    [InlineData("""{"title":"Read","type":"numeric","target_value":0}""", "target_value")]
    [InlineData("""{"title":"Read","type":"timer","target_value":0.5}""", "target_value")]
    public async Task Bad_request_with_the_field_when_the_habit_is_invalid(string json, string field)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsync("/api/v1/habits", RecordApi.Json(json));

        var body = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.Equal([field], body["errors"]!.AsObject().Select(p => p.Key));
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habits"));
    }

    [Theory]
    [InlineData("""{"title":5}""", "title")]
    [InlineData("""{"title":"Read","sort_order":1.5}""", "sort_order")]
    [InlineData("""{"title":"Read","weekdays":[1,"2"]}""", "weekdays")]
    [InlineData("""{"title":"Read","start_date":"2026-03-08T07:00:00"}""", "start_date")]
    [InlineData("""{"title":"Read","start_date":"9999-12-31T23:59:59-01:00"}""", "start_date")]
    [InlineData("""{"title":"Read","id":"not-a-uuid"}""", "id")]
    [InlineData("""{"title":"Read\u0000"}""", "title")]
    public async Task Bad_request_naming_the_field_when_a_value_has_the_wrong_type(string json, string field)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsync("/api/v1/habits", RecordApi.Json(json));

        var body = await response.ShouldBeProblemAsync(400, "invalid json");
        Assert.NotNull(body["errors"]![field]);
    }

    [Fact]
    public async Task Bad_request_when_the_body_is_not_an_object()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsync("/api/v1/habits", RecordApi.Json("[]"));

        await response.ShouldBeProblemAsync(400);
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().PostAsJsonAsync("/api/v1/habits", new { title = "Read" });

        await response.ShouldBeProblemAsync(401);
    }
}
