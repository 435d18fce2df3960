using Kanso.Api;
using Kanso.Api.Domain;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Features;
using Kanso.Api.Infrastructure;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Compression;
using Kanso.Api.Infrastructure.Database;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Health;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Infrastructure.Observability;
using Kanso.Api.Infrastructure.OpenApi;
using Kanso.Api.Infrastructure.RateLimiting;
using Kanso.Api.Infrastructure.Redis;
using Kanso.Api.Infrastructure.Time;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.Extensions.Options;

if (args is ["healthcheck", ..])
{
    return await HealthProbe.RunAsync();
}

var builder = WebApplication.CreateBuilder(args);
if (StartupCheck.Failures(builder.Configuration, builder.Environment) is { Count: > 0 } failures)
{
    Console.Error.WriteLine($"Kanso cannot start: {string.Join(" ", failures)}");
    return 1;
}

builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Limits.MaxRequestBodySize = ErrorSetup.MaxBodyBytes;
});
builder.AddKansoObservability();
builder.Services.ConfigureHttpJsonOptions(o => JsonSetup.Configure(o.SerializerOptions));
builder.Services.AddKansoMetrics();
builder.Services.AddKansoTime();
builder.Services.AddKansoRedis();
builder.Services.AddKansoErrors();
builder.Services.AddKansoDatabase();
builder.Services.AddKansoStreaks();
builder.Services.AddKansoSync();
builder.Services.AddKansoAuth();
builder.Services.AddKansoValidation();
builder.Services.AddKansoOpenApi();
builder.Services.AddKansoRateLimiting();
builder.Services.AddKansoHealthChecks();
builder.Services.AddKansoCompression(KansoEndpoints.BasePath + "/auth", KansoEndpoints.BasePath + "/sync/events");

var app = builder.Build();

app.UseKansoForwardedHeaders();
app.UseKansoMetrics();
app.UseKansoRequestLog();
app.UseKansoCompression();
app.UseKansoErrors();
app.UseKansoJsonCharset();
app.UseAuthentication();
app.UseKansoRateLimiting();
app.UseAuthorization();
app.MapKansoDocs();
app.MapKansoApi();

try
{
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    // One clear line naming the setting, not a stack trace.
    Console.Error.WriteLine($"Kanso cannot start: {string.Join(" ", ex.Failures)}");
    return 1;
}
catch (StartupException ex)
{
    Console.Error.WriteLine($"Kanso cannot start: {ex.Message}");
    return 1;
}

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
