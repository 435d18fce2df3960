using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.SyncEvents;

/// <summary>Hints keep coming when Redis is gone or the listening connection is lost.</summary>
public sealed class LiveSyncOutageTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task With_redis_stopped_a_write_on_one_host_still_wakes_a_stream_on_another()
    {
        await using var redis = await LocalRedis.StartAsync();
        await using var hostA = new KansoApiFactory(Fixture.ConnectionString, redis.Configuration);
        await using var hostB = new KansoApiFactory(Fixture.ConnectionString, redis.Configuration);
        var user = await CreateUserAsync();
        var onA = ClientFor(hostA, user.Id, user.Email);
        await onA.GetAsync("/api/v1/auth/validate");

        await redis.StopAsync();
        await Hints.DeliveredAsync(hostB, Fixture.ConnectionString);
        await using var stream = await EventStream.OpenReadyAsync(ClientFor(hostB, user.Id, user.Email));
        await onA.CreateHabitIdAsync();

        Assert.Equal("change", await stream.NextAsync());
    }

    [Fact]
    public async Task A_lost_listening_connection_is_replaced_and_its_streams_are_told_to_pull_since_hints_may_have_been_missed()
    {
        var user = await CreateUserAsync();
        await Hints.DeliveredAsync(Factory, Fixture.ConnectionString);
        await using var stream = await EventStream.OpenReadyAsync(user.Client);

        await using (var db = await OpenDatabaseAsync())
        {
            Assert.True(await db.ExecuteScalarAsync<int>(
                "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = @name AND datname = current_database()",
                new { name = ChangeHintListener.ApplicationName }) >= 1);
        }

        // Reconnected: every stream is woken, then hints flow again.
        Assert.Equal("change", await stream.NextAsync());
        await Hints.DeliveredAsync(Factory, Fixture.ConnectionString);
        await user.Client.CreateHabitIdAsync();
        Assert.Equal("change", await stream.NextAsync());
    }
}
