using System.Text.RegularExpressions;

namespace Kanso.Api.Infrastructure.Auth;

internal static partial class EmailAddress
{
    /// <summary>Emails are compared trimmed and lower-cased.</summary>
    public static string Normalize(string email) => email.Trim().ToLowerInvariant();

    public static bool IsValid(string? email) =>
        email is not null && Normalize(email) is { Length: >= 3 and <= 254 } normalized && Shape().IsMatch(normalized);

    [GeneratedRegex(@"^[^@\s\p{C}]{1,64}@[^@\s\p{C}.]+(\.[^@\s\p{C}.]+)+$")]
    private static partial Regex Shape();
}
