using Microsoft.Extensions.Options;
using Npgsql;

namespace Kanso.Api.Infrastructure.Database;

/// <summary>Bound from <c>ConnectionStrings</c>; the contract names the key <c>ConnectionStrings__Postgres</c>.</summary>
internal sealed class DatabaseOptions
{
    public const string SectionName = "ConnectionStrings";

    public string? Postgres { get; set; }
}

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Postgres))
        {
            return ValidateOptionsResult.Fail("ConnectionStrings__Postgres is required: set it to an Npgsql connection string (Host=...;Username=...;Password=...;Database=...).");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(options.Postgres);
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail($"ConnectionStrings__Postgres is not a valid Npgsql connection string: {ex.Message}");
        }

        return ValidateOptionsResult.Success;
    }
}
