namespace Kanso.Api.Infrastructure;

/// <summary>
/// `dotnet Kanso.Api.dll healthcheck`: the container HEALTHCHECK. The chiseled runtime image has no
/// shell or curl, so the app probes its own /health and exits 0 when it answers 200.
/// </summary>
internal static class HealthProbe
{
    public static async Task<int> RunAsync()
    {
        var port = Environment.GetEnvironmentVariable("KANSO_HEALTH_PORT") ?? "8080";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/health");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return 1;
        }
    }
}
