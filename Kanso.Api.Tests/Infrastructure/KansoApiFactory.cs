using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
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
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services => services.AddSingleton<IClock>(Clock));
    }
}
