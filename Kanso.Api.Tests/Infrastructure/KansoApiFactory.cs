using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;
using NodaTime.Testing;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>The API in-process over a real database and Redis, with a controllable clock.</summary>
public sealed class KansoApiFactory(string postgres, string? redis, IDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public const string SigningKey = "kanso-tests-signing-key-0123456789-abcdef";

    public FakeClock Clock { get; } = new(SystemClock.Instance.GetCurrentInstant());

    internal TokenIssuer Tokens => Services.GetRequiredService<TokenIssuer>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Postgres", postgres);
        builder.UseSetting("Redis:Configuration", redis ?? "");
        builder.UseSetting("Jwt:Algorithm", "HS256");
        builder.UseSetting("Jwt:SigningKey", SigningKey);
        builder.UseSetting("Jwt:Issuer", "kanso");
        builder.UseSetting("Jwt:Audience", "kanso-app");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:Kanso.Requests", "Warning");

        // Generous buckets, so tests never meet 429 by accident; rate-limit tests set small ones.
        foreach (var bucket in new[] { "User", "Ip", "Login" })
        {
            builder.UseSetting($"RateLimit:{bucket}:Capacity", "1000000");
            builder.UseSetting($"RateLimit:{bucket}:PerMinute", "1000000");
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(new TestLogs.Provider()));
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IClock>(Clock);
            services.AddSingleton<IStartupFilter, TestPeerAddress>();
        });
    }
}

/// <summary>
/// The test server has no TCP peer (RemoteIpAddress is null); a request may name one in
/// <see cref="Header"/>, as if it came from that address. It runs before the app's own pipeline, so
/// forwarded headers and rate limiting see it like a real connection's address.
/// </summary>
public sealed class TestPeerAddress : IStartupFilter
{
    public const string Header = "X-Test-Peer";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Headers[Header] is [{ } peer])
            {
                context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(peer);
            }

            return nextMiddleware(context);
        });
        next(app);
    };
}
