namespace Kanso.Api.Tests.RateLimiting;

/// <summary>Bounded polling: the only kind of waiting these tests do.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? within = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Condition not met within {within ?? TimeSpan.FromSeconds(30)}{(because is null ? "" : ": " + because)}.");
            }

            await Task.Delay(50);
        }
    }
}
