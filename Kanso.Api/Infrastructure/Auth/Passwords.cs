using Microsoft.AspNetCore.Identity;

namespace Kanso.Api.Infrastructure.Auth;

/// <summary>
/// ASP.NET Core Identity's PBKDF2 hasher. A login for an unknown email verifies against a dummy hash
/// so it costs the same time as one for a known email.
/// </summary>
internal sealed class Passwords
{
    private static readonly Account Nobody = new();
    private readonly PasswordHasher<Account> _hasher = new();
    private readonly string _dummyHash;

    public Passwords() => _dummyHash = _hasher.HashPassword(Nobody, Guid.NewGuid().ToString());

    public string Hash(string password) => _hasher.HashPassword(Nobody, password);

    /// <returns>Whether the password matches, and whether the stored hash should be upgraded.</returns>
    public (bool Ok, bool Rehash) Verify(string? storedHash, string password)
    {
        var result = _hasher.VerifyHashedPassword(Nobody, storedHash ?? _dummyHash, password);
        return storedHash is null
            ? (false, false)
            : (result != PasswordVerificationResult.Failed, result == PasswordVerificationResult.SuccessRehashNeeded);
    }

    internal sealed class Account;
}
