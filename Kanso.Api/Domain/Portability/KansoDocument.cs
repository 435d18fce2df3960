namespace Kanso.Api.Domain.Portability;

/// <summary>
/// The account document of GET /export and POST /import (docs/API.md, "Your data"):
/// <c>{format_version, exported_at, user, settings, habits, entries, time_off}</c>, records in their wire shapes.
/// A new record type is added to both the export and the import.
/// </summary>
internal static class KansoDocument
{
    /// <summary>
    /// 2 added <c>settings</c>, <c>time_off</c>, habits' <c>goal</c> and entries' <c>local_date</c> and
    /// <c>kind</c>: an importer of 1 would read a skip as a completion and drop the time off, so it must
    /// refuse a 2 rather than misread it.
    /// </summary>
    public const int FormatVersion = 2;

    /// <summary>The versions POST /import reads; a 1 has none of 2's additions.</summary>
    public static bool CanImport(int? formatVersion) => formatVersion is 1 or FormatVersion;

    public const string JsonContentType = "application/json";

    public const string ZipContentType = "application/zip";
}
