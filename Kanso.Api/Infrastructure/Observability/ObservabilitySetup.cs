using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Kanso.Api.Infrastructure.Observability;

/// <summary>
/// OpenTelemetry for ASP.NET Core, HttpClient, Npgsql, the .NET runtime and Kanso's own
/// <see cref="KansoDiagnostics.Name"/> source and meter. Metrics are scraped in Prometheus format;
/// traces leave the process over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-specific
/// variable) is set, and otherwise no tracer is built at all.
/// </summary>
internal static class ObservabilitySetup
{
    public const string ServiceName = "kanso-api";

    public static WebApplicationBuilder AddKansoObservability(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ServiceMetrics>();
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        var metrics = builder.Configuration.GetSection(MetricsOptions.SectionName).Get<MetricsOptions>() ?? new MetricsOptions();
        var tracing = TracingEnabled(builder.Configuration);
        if (!metrics.Enabled && !tracing)
        {
            return builder;
        }

        var otel = builder.Services.AddOpenTelemetry().ConfigureResource(resource =>
        {
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default name.
            if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
            {
                resource.AddService(ServiceName, serviceVersion: typeof(ObservabilitySetup).Assembly.GetName().Version?.ToString());
            }
        });

        if (metrics.Enabled)
        {
            otel.WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(KansoDiagnostics.Name)
                .AddPrometheusExporter());
        }

        if (tracing)
        {
            otel.WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsOperationsPath(http.Request.Path, metrics))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddSource(KansoDiagnostics.Name)
                .AddOtlpExporter());
        }

        return builder;
    }

    /// <summary>The standard variables: a general or a traces-specific OTLP endpoint turns tracing on.</summary>
    public static bool TracingEnabled(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);

    /// <summary>
    /// GET /metrics (or the configured path): Prometheus text, answered early in the pipeline, so
    /// without authentication and outside the rate limits. With Metrics:Port it answers only on
    /// connections to that port (checked on the socket, not on the Host header a client sends).
    /// </summary>
    public static WebApplication UseKansoMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }

        var path = new PathString(options.Path);
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
            context.Request.Path.Equals(path, StringComparison.OrdinalIgnoreCase)
            && (options.Port is not { } port || context.Connection.LocalPort == port));
        return app;
    }

    private static bool IsOperationsPath(PathString path, MetricsOptions metrics) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
        || (metrics.Enabled && path.StartsWithSegments(metrics.Path, StringComparison.OrdinalIgnoreCase));
}
