namespace Kanso.Api.Domain.Sync;

/// <summary>
/// The protocol a client speaks, from <c>Kanso-Protocol</c>: 2 when it sends 2 (or more), else 1 (the
/// v1.1 contract). Earlier clients must not mis-count: to them a skip entry is a tombstone, and pull
/// carries no time off and no settings.
/// </summary>
internal static class ClientProtocol
{
    public const string HeaderName = "Kanso-Protocol";

    public const int Current = 2;

    public static int Of(HttpContext http) =>
        int.TryParse(http.Request.Headers[HeaderName].ToString().Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
        && version >= Current ? Current : 1;
}
