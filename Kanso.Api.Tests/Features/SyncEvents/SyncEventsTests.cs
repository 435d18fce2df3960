using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;
using static Kanso.Api.Tests.Infrastructure.TestRows;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using NodaTime;

namespace Kanso.Api.Tests.Features.SyncEvents;

public sealed class SyncEventsTests(ApiFixture fixture) : ApiTest(fixture)
{
    public static TheoryData<string> Writers => ["create habit", "update habit", "create entry", "delete entry", "push", "streak worker", "purge", "account deletion"];

    [Theory]
    [MemberData(nameof(Writers))]
    public async Task A_write_through_each_writer_wakes_the_users_stream_and_no_other_users(string writer)
    {
        var user = await CreateUserAsync();
        var other = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var entry = await user.Client.CreateEntryIdAsync(habit);
        await using var db = await Factory.OpenAppDatabaseAsync();
        var gone = await user.Client.CreateHabitIdAsync();
        await (await user.Client.DeleteAsync($"/api/v1/habits/{gone}")).ShouldBeAsync(204);
        await db.ExecuteAsync("UPDATE habits SET deleted_at = ((deleted_at AT TIME ZONE 'UTC') - interval '31 days') AT TIME ZONE 'UTC' WHERE id = @gone", new { gone });
        await EventuallyAsync(async () => !(await db.ReadHabitAsync(user.Id, habit)).StreakDirty, "the entry's streak job has run");

        // Every hint of the set-up has arrived; from here on a hint is the writer's.
        await Hints.DeliveredAsync(Factory, Fixture.ConnectionString);
        await using var stream = await EventStream.OpenReadyAsync(user.Client);
        using var others = Hints.Subscribe(Factory, other.Id);

        await WriteAsync(writer, user, habit, entry, db);

        Assert.Equal("change", await stream.NextAsync());
        if (writer == "account deletion")
        {
            Assert.Equal(EventStream.End, await stream.NextAsync());
        }

        await Hints.DeliveredAsync(Factory, Fixture.ConnectionString);
        Assert.False(await others.WaitAsync(TimeSpan.Zero, CancellationToken.None), "another user's stream was woken");
    }

    private async Task WriteAsync(string writer, TestUser user, Guid habit, Guid entry, Npgsql.NpgsqlConnection db)
    {
        switch (writer)
        {
            case "create habit":
                await user.Client.CreateHabitIdAsync();
                break;
            case "update habit":
                await (await user.Client.PutAsync($"/api/v1/habits/{habit}", RecordApi.Json("""{"title":"Renamed","version":1}"""))).ShouldBeAsync(200);
                break;
            case "create entry":
                await user.Client.CreateEntryIdAsync(habit, "2026-03-09T07:00:00Z");
                break;
            case "delete entry":
                await (await user.Client.DeleteAsync($"/api/v1/entries/{entry}")).ShouldBeAsync(204);
                break;
            case "push":
                await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m1", op = "upsert_habit", id = Guid.NewGuid(), data = new { title = "Pushed" } } } });
                break;
            case "streak worker":
                // Rows written behind the API's back (no hint), then the worker's job for them.
                var dirty = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true }, new TestEntry(Factory.Clock.GetCurrentInstant()));
                Assert.True(Factory.Services.GetRequiredService<StreakQueue>().TryEnqueue(user.Id, dirty.Id));
                break;
            case "purge":
                Assert.True((await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None)).Habits >= 1);
                break;
            case "account deletion":
                await (await user.Client.DeleteAsync("/api/v1/auth/user")).ShouldBeAsync(200);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(writer));
        }
    }

    [Fact]
    public async Task A_stream_opens_with_a_change_sends_nothing_that_carries_data_and_is_neither_compressed_nor_cached()
    {
        var user = await CreateUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/sync/events");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, br");
        using var response = await user.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Contains("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal("event: change", await reader.ReadLineAsync());
        Assert.Equal("data: {}", await reader.ReadLineAsync());
        Assert.Equal("", await reader.ReadLineAsync());
    }

    [Fact]
    public async Task An_idle_stream_sends_pings()
    {
        await using var host = Fixture.CreateFactory(new Dictionary<string, string?> { ["Live:HeartbeatInterval"] = "00:00:01" });
        var user = await CreateUserAsync();
        await using var stream = await EventStream.OpenReadyAsync(ClientFor(host, user.Id, user.Email));

        Assert.Equal(EventStream.Ping, await stream.NextIncludingPingsAsync());
        Assert.Equal(EventStream.Ping, await stream.NextIncludingPingsAsync());
    }

    [Fact]
    public async Task A_stream_ends_with_reauth_before_its_token_expires()
    {
        // Tokens live an hour; the stream says reauth 59:57 before exp, so about three seconds after it opens.
        await using var host = Fixture.CreateFactory(new Dictionary<string, string?> { ["Live:ReauthBefore"] = "00:59:57" });
        var user = await CreateUserAsync();
        var client = ClientFor(host, user.Id, user.Email);
        var expires = new JsonWebTokenHandler().ReadJsonWebToken(client.DefaultRequestHeaders.Authorization!.Parameter).ValidTo;
        await using var stream = await EventStream.OpenReadyAsync(client);

        Assert.Equal("reauth", await stream.NextAsync());
        Assert.Equal(EventStream.End, await stream.NextAsync());
        Assert.True(DateTime.UtcNow < expires, "the stream ended before the token's exp");
    }

    [Fact]
    public async Task The_eleventh_stream_of_a_user_is_429_and_a_closed_one_frees_its_place()
    {
        var user = await CreateUserAsync();
        var other = await CreateUserAsync();
        var streams = new List<EventStream>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                streams.Add(await EventStream.OpenReadyAsync(user.Client));
            }

            await using var eleventh = await EventStream.OpenAsync(user.Client);
            await eleventh.Response.ShouldBeProblemAsync(429, "too many streams");
            Assert.NotNull(eleventh.Response.Headers.RetryAfter);
            await using var othersStream = await EventStream.OpenReadyAsync(other.Client);

            await streams[0].DisposeAsync();
            streams.RemoveAt(0);
            await EventuallyAsync(async () =>
            {
                var again = await EventStream.OpenAsync(user.Client);
                if (again.Response.IsSuccessStatusCode)
                {
                    streams.Add(again);
                    return true;
                }

                await again.DisposeAsync();
                return false;
            }, "a place is free again");
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_write_on_host_A_wakes_a_stream_on_host_B()
    {
        await using var hostB = Fixture.CreateFactory();
        var user = await CreateUserAsync();
        await Hints.DeliveredAsync(hostB, Fixture.ConnectionString);
        await using var stream = await EventStream.OpenReadyAsync(ClientFor(hostB, user.Id, user.Email));

        await user.Client.CreateHabitIdAsync(); // host A: the fixture's host

        Assert.Equal("change", await stream.NextAsync());
    }

    [Fact]
    public async Task A_client_that_drops_its_stream_and_misses_writes_pulls_every_change_after_reconnecting()
    {
        var user = await CreateUserAsync();
        var phone = new LocalCopy();
        await user.Client.PullAllAsync(phone);
        var stream = await EventStream.OpenReadyAsync(user.Client);
        var first = await user.Client.CreateHabitIdAsync();
        Assert.Equal("change", await stream.NextAsync());
        await user.Client.PullAllAsync(phone);
        await stream.DisposeAsync();

        // Offline: another device writes three times.
        var second = await user.Client.CreateHabitIdAsync();
        var entry = await user.Client.CreateEntryIdAsync(first);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{first}")).ShouldBeAsync(204);

        await using var again = await EventStream.OpenAsync(user.Client);
        Assert.Equal("change", await again.NextAsync());
        await user.Client.PullAllAsync(phone);

        Assert.NotNull(phone.Habits[first].DeletedAt);
        Assert.Null(phone.Habits[second].DeletedAt);
        Assert.NotNull(phone.Entries[entry].DeletedAt);
    }

    [Fact]
    public async Task A_stream_needs_a_token()
    {
        var response = await Anonymous().GetAsync("/api/v1/sync/events");
        await response.ShouldBeProblemAsync(401);
    }
}
