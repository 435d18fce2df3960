using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using FluentValidation;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Infrastructure.Validation;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Domain.Records;

/// <summary>The user's settings as stored on the users row.</summary>
internal sealed record UserSettingsRecord
{
    public string Timezone { get; init; } = "UTC";

    public int DayStartMinutes { get; init; }

    public int SettingsVersion { get; init; }

    public long SettingsSeq { get; init; }
}

/// <summary>Settings on the wire: <c>{timezone, day_start, version}</c>.</summary>
internal sealed record SettingsResponse(string Timezone, string DayStart, int Version)
{
    public static SettingsResponse From(UserSettingsRecord r) => new(r.Timezone, SettingsRules.FormatDayStart(r.DayStartMinutes), r.SettingsVersion);
}

/// <summary>The body of PUT /settings: either field may be left out; <c>version</c> is required.</summary>
internal record SettingsFields
{
    public Optional<string> Timezone { get; init; }

    public Optional<string> DayStart { get; init; }

    public int? Version { get; init; }
}

/// <summary>Each sent settings field on its own: PUT /settings and an imported document's <c>settings</c>.</summary>
internal sealed class SettingsFieldsValidator : AbstractValidator<SettingsFields>
{
    public SettingsFieldsValidator()
    {
        RuleFor(x => x.Timezone).NotSentAsNull()
            .WhenSent(v => v.Length <= 64 && DateTimeZoneProviders.Tzdb.GetZoneOrNull(v) is not null).WithMessage("'{PropertyName}' must be an IANA time zone name such as Europe/Rome.");
        RuleFor(x => x.DayStart).NotSentAsNull()
            .WhenSent(v => SettingsRules.TryParseDayStart(v, out _)).WithMessage("'{PropertyName}' must be HH:MM from 00:00 to 06:00.");
    }
}

internal static partial class SettingsRules
{
    /// <summary>The settings version of an account whose settings were never set (PUT /settings or an import).</summary>
    public const int NeverSetVersion = 1;

    public const int MaxDayStartMinutes = 6 * 60;

    public static string FormatDayStart(int minutes) => string.Create(CultureInfo.InvariantCulture, $"{minutes / 60:00}:{minutes % 60:00}");

    /// <summary><c>HH:MM</c> from 00:00 to 06:00.</summary>
    public static bool TryParseDayStart(string? text, out int minutes)
    {
        minutes = 0;
        if (text is null || !DayStartPattern().IsMatch(text))
        {
            return false;
        }

        minutes = int.Parse(text.AsSpan(0, 2), CultureInfo.InvariantCulture) * 60 + int.Parse(text.AsSpan(3, 2), CultureInfo.InvariantCulture);
        return minutes <= MaxDayStartMinutes;
    }

    [GeneratedRegex(@"\A[0-9]{2}:[0-5][0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex DayStartPattern();
}

/// <summary>
/// The settings write: the user's change number (and lock) first, then one statement guarded by the
/// settings version. A new zone or day start changes what "today" is, so every live habit of the
/// user is marked <c>streak_dirty</c> (the sweep finds them; the caller may also queue them).
/// </summary>
internal static class SettingsWrites
{
    public static Task<UserSettingsRecord?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid userId, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<UserSettingsRecord>(new CommandDefinition(SettingsSql.Find, new { userId }, transaction, cancellationToken: ct));

    /// <returns>The stored settings and the habits marked dirty, or a conflict (current settings), or null when the user is gone.</returns>
    public static async Task<(UserSettingsRecord Settings, bool Applied, Guid[] DirtyHabits)?> UpdateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, int version, string? timezone, int? dayStartMinutes, CancellationToken ct)
    {
        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return null;
        }

        return await ApplyAsync(connection, transaction, userId, version, timezone, dayStartMinutes, change.Number, ct);
    }

    /// <summary>
    /// The guarded statement of <see cref="UpdateAsync"/> under a change number the caller already took
    /// (with the user's lock): an import applies settings under its own one.
    /// </summary>
    public static async Task<(UserSettingsRecord Settings, bool Applied, Guid[] DirtyHabits)?> ApplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, int version, string? timezone, int? dayStartMinutes, long changeSeq,
        CancellationToken ct)
    {
        var updated = await connection.QuerySingleOrDefaultAsync<UserSettingsRecord>(new CommandDefinition(
            SettingsSql.Update, new { userId, version, timezone, dayStart = dayStartMinutes, changeSeq }, transaction, cancellationToken: ct));
        if (updated is null)
        {
            return await FindAsync(connection, transaction, userId, ct) is { } current ? (current, false, []) : null;
        }

        var dirty = (await connection.QueryAsync<Guid>(new CommandDefinition(
            SettingsSql.MarkHabitsDirty, new { userId }, transaction, cancellationToken: ct))).ToArray();
        return (updated, true, dirty);
    }
}

internal static class SettingsSql
{
    public const string Columns = "timezone, day_start_minutes, settings_version, settings_seq";

    public const string Find = $"SELECT {Columns} FROM users WHERE id = @userId";

    public const string Update = $"""
        UPDATE users SET timezone = coalesce(@timezone::text, timezone), day_start_minutes = coalesce(@dayStart::smallint, day_start_minutes),
            settings_version = settings_version + 1, settings_seq = @changeSeq
        WHERE id = @userId AND settings_version = @version
        RETURNING {Columns}
        """;

    public const string MarkHabitsDirty = "UPDATE habits SET streak_dirty = true WHERE user_id = @userId AND deleted_at IS NULL RETURNING id";
}
