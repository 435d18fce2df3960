using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Kanso.Api.Infrastructure.OpenApi;

internal static class OpenApiSetup
{
    public const string BearerScheme = "Bearer";

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Operations"] = "Probes for load balancers and orchestrators (Prometheus metrics are at /metrics, outside this document).",
        ["Auth"] = "Accounts and tokens.",
        ["Habits"] = "Habits, one record at a time.",
        ["Entries"] = "Completions of a habit on a day, one record at a time.",
        ["Stats"] = "Counts and streaks in the user's time zone.",
        ["Sync"] = "Offline sync: pull changes since a cursor, push a batch of queued mutations.",
    };

    public static IServiceCollection AddKansoOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.CreateSchemaReferenceId = WireSchemas.ReferenceId;
            options.AddSchemaTransformer(WireSchemas.TransformAsync);
            options.AddSchemaTransformer(WireSchemas.TransformProblemAsync);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Kanso Sync API",
                    Version = "v1",
                    Description = "Offline-first habit sync. Errors are RFC 9457 problem details with `error` and `trace_id`. " +
                        "Instants are RFC 3339 (output UTC `Z` with microseconds), local dates `YYYY-MM-DD`. " +
                        "Send `X-Timezone: <IANA name>` to set the zone days are counted in.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A token from POST /api/v1/auth/login.",
                };

                // Declared for the whole document (anonymous operations opt out below), so linters
                // and Scalar see every operation's security and Scalar offers the token field.
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];

                // Servers come from the request ("http://host/"); a trailing slash would double the
                // slash of every path joined to it.
                foreach (var server in document.Servers ?? [])
                {
                    if (server.Url is { Length: > 1 } url && url.EndsWith('/'))
                    {
                        server.Url = url.TrimEnd('/');
                    }
                }

                foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
                {
                    tag.Description ??= tag.Name is { } name && TagDescriptions.TryGetValue(name, out var description) ? description : null;
                }

                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var anonymous = context.Description.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any();
                var authorized = context.Description.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any();
                if (authorized && !anonymous)
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                }
                else
                {
                    // An empty requirement: this operation needs no credentials.
                    operation.Security = [new OpenApiSecurityRequirement()];
                }

                return Task.CompletedTask;
            });
        });

    public static WebApplication MapKansoDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/scalar", o => o.WithTitle("Kanso Sync API").AddPreferredSecuritySchemes(BearerScheme)).AllowAnonymous();
        app.MapGet("/swagger", () => TypedResults.Redirect("/scalar")).ExcludeFromDescription().AllowAnonymous();
        app.MapGet("/swagger/{**rest}", () => TypedResults.Redirect("/scalar")).ExcludeFromDescription().AllowAnonymous();
        return app;
    }
}
