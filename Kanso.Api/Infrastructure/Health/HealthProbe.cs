namespace Kanso.Api.Infrastructure.Health;

/// <summary>
/// `dotnet Kanso.Api.dll healthcheck`: the container HEALTHCHECK. The chiseled runtime image has no
/// shell or curl, so the app probes its own /health/live and exits 0 when it answers 200. Liveness
/// never asks the database, so a database outage restarts no container. The port is
/// KANSO_HEALTH_PORT, else the first of ASPNETCORE_HTTP_PORTS (the image sets 8080), else 8080.
/// </summary>
internal static class HealthProbe
{
    public static async Task<int> RunAsync()
    {
        var port = Environment.GetEnvironmentVariable("KANSO_HEALTH_PORT")
            ?? (Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS") ?? Environment.GetEnvironmentVariable("HTTP_PORTS"))?
                .Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? "8080";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/health/live");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return 1;
        }
    }
}
