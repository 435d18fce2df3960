using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Kanso.Api.Infrastructure.OpenApi;

internal static class OpenApiSetup
{
    public const string BearerScheme = "Bearer";

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

                return Task.CompletedTask;
            });
        });

    public static WebApplication MapKansoDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/scalar", o => o.WithTitle("Kanso Sync API")).AllowAnonymous();
        app.MapGet("/swagger", () => TypedResults.Redirect("/scalar")).ExcludeFromDescription().AllowAnonymous();
        app.MapGet("/swagger/{**rest}", () => TypedResults.Redirect("/scalar")).ExcludeFromDescription().AllowAnonymous();
        return app;
    }
}
