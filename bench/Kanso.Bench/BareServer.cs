using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Kanso.Bench;

/// <summary>
/// The HTTP + JSON ceiling of pull: Kestrel, one Npgsql data source set up as the API's (auto-prepare),
/// Kanso's pull statement, each row written as a JSON object — and nothing else (no authentication, rate
/// limiting, cursor, validation, logging or metrics). Run as its own process (`Kanso.Bench.dll bare`),
/// so its CPU is measured like the API's.
/// </summary>
internal static class BareServer
{
    public static async Task<int> RunAsync(string[] args, string postgres, string apiDll)
    {
        var sql = KansoSql.Load(apiDll)["Features.PullChanges.PullChangesSql", "Changes"];
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // As the API's data source (DatabaseSetup.BuildDataSource): auto-prepare, no reset on close, a pool sized to the cores.
        var csb = new NpgsqlConnectionStringBuilder(postgres)
        {
            MaxAutoPrepare = 64, AutoPrepareMinUsages = 2, NoResetOnClose = true, MaxPoolSize = Math.Max(8, Environment.ProcessorCount * 4),
        };
        await using var db = NpgsqlDataSource.Create(csb.ConnectionString);
        var app = builder.Build();
        app.MapGet("/health", () => "ok");
        app.MapGet("/pull/{user:int}/{seq:long}/{floor:long}", async (int user, long seq, long floor, HttpContext http) =>
        {
            await using var connection = await db.OpenConnectionAsync(http.RequestAborted);
            await using var command = new NpgsqlCommand(sql, connection);
            // Positional, as PullChangesSql.Command: $1 user, $2 $4 $8 seqs, $3 $5 $9 ids, $6 floor, $7 take, $10 protocol.
            foreach (var parameter in new NpgsqlParameter[]
            {
                new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = BenchIds.User(user) },
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = seq },
                new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = Guid.Empty },
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = seq },
                new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = Guid.Empty },
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = floor },
                new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = 501 },
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = seq },
                new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = Guid.Empty },
                new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = 1 },
            })
            {
                command.Parameters.Add(parameter);
            }

            await using var reader = await command.ExecuteReaderAsync(http.RequestAborted);
            http.Response.ContentType = "application/json";
            await using var json = new Utf8JsonWriter(http.Response.BodyWriter);
            json.WriteStartArray();
            var types = Enumerable.Range(0, reader.FieldCount).Select(reader.GetFieldType).ToArray();
            var names = Enumerable.Range(0, reader.FieldCount).Select(i => JsonEncodedText.Encode(reader.GetName(i))).ToArray();
            while (await reader.ReadAsync(http.RequestAborted))
            {
                json.WriteStartObject();
                for (var i = 0; i < types.Length; i++)
                {
                    if (reader.IsDBNull(i))
                    {
                        continue;
                    }

                    json.WritePropertyName(names[i]);
                    var type = types[i];
                    if (type == typeof(string)) json.WriteStringValue(reader.GetString(i));
                    else if (type == typeof(Guid)) json.WriteStringValue(reader.GetGuid(i));
                    else if (type == typeof(DateTime)) json.WriteStringValue(reader.GetDateTime(i));
                    else if (type == typeof(long)) json.WriteNumberValue(reader.GetInt64(i));
                    else if (type == typeof(int)) json.WriteNumberValue(reader.GetInt32(i));
                    else if (type == typeof(short)) json.WriteNumberValue(reader.GetInt16(i));
                    else if (type == typeof(double)) json.WriteNumberValue(reader.GetDouble(i));
                    else if (type == typeof(bool)) json.WriteBooleanValue(reader.GetBoolean(i));
                    else json.WriteStringValue(reader.GetValue(i).ToString());
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            await json.FlushAsync(http.RequestAborted);
        });
        await app.RunAsync();
        return 0;
    }
}
