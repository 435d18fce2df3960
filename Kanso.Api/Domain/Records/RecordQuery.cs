namespace Kanso.Api.Domain.Records;

/// <summary>Query-string values the record routes share.</summary>
internal static class RecordQuery
{
    public const string VersionMessage = "'version' must be a whole number of at least 1.";

    /// <summary>The optional <c>?version=N</c> of a DELETE: absent or empty is null; anything but an integer ≥ 1 is invalid.</summary>
    public static bool TryParseVersion(string? text, out int? version)
    {
        version = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed >= 1)
        {
            version = parsed;
            return true;
        }

        return false;
    }
}
