namespace Kanso.Api.Domain.Portability;

/// <summary>
/// The account document of GET /export and POST /import (docs/API.md, "Your data"):
/// <c>{format_version, exported_at, user, habits, entries}</c>, records in their wire shapes.
/// A new record type is added to both the export and the import.
/// </summary>
internal static class KansoDocument
{
    public const int FormatVersion = 1;

    public const string JsonContentType = "application/json";

    public const string ZipContentType = "application/zip";
}
