using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Kanso.Api.Infrastructure.Auth;

internal static class AuthSetup
{
    /// <summary>Server instances' clocks are NTP-close; the library's default of 5 minutes would keep expired tokens alive.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(5);

    private const string DatabaseDownKey = "kanso.auth.database-down";

    public static IServiceCollection AddKansoAuth(this IServiceCollection services)
    {
        services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>();
        services.AddSingleton<JwtKeys>();
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<Passwords>();
        services.AddSingleton<KnownUsers>();
        services.AddSingleton<UserRevocations>();
        services.AddHostedService(sp => sp.GetRequiredService<UserRevocations>());
        services.AddOptions<RefreshTokenOptions>().BindConfiguration(RefreshTokenOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RefreshTokenOptions>, RefreshTokenOptionsValidator>();
        services.AddSingleton<RefreshTokens>();
        services.AddSingleton<DeviceSessions>();
        services.AddSingleton<SessionRevocations>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionRevocations>());
        services.AddMemoryCache();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<JwtKeys, IOptions<JwtOptions>>((bearer, keys, jwt) =>
            {
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Value.Issuer,
                    ValidAudience = jwt.Value.Audience,
                    IssuerSigningKey = keys.VerificationKey,
                    ValidAlgorithms = [keys.Algorithm],
                    ValidateIssuer = true,
                    ValidateAudience = true,
                    ValidateLifetime = true,
                    ValidateIssuerSigningKey = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ClockSkew = ClockSkew,
                    NameClaimType = JwtRegisteredClaimNames.Sub,
                };
                bearer.Events = new JwtBearerEvents
                {
                    OnTokenValidated = RejectDeletedUsers,
                    OnAuthenticationFailed = context =>
                    {
                        if (KansoExceptionHandler.IsDatabaseUnavailable(context.Exception))
                        {
                            context.HttpContext.Items[DatabaseDownKey] = true;
                        }

                        return Task.CompletedTask;
                    },
                    OnChallenge = WriteChallenge,
                    OnForbidden = context => WriteProblem(context.HttpContext, StatusCodes.Status403Forbidden, "forbidden", "This token may not do that."),
                };
            });
        services.AddAuthorization();
        return services;
    }

    private static async Task RejectDeletedUsers(TokenValidatedContext context)
    {
        var sub = context.Principal?.FindFirst(JwtRegisteredClaimNames.Sub)?.Value;
        if (!Guid.TryParse(sub, out var userId))
        {
            context.Fail("The token has no valid subject.");
            return;
        }

        var users = context.HttpContext.RequestServices.GetRequiredService<KnownUsers>();
        var user = await users.FindAsync(userId, context.HttpContext.RequestAborted);
        if (user is null)
        {
            context.Fail("The account no longer exists.");
            return;
        }

        // A token of a device session works while the session is open (sign-out, password change
        // and refresh token reuse end it); tokens issued before sessions existed carry no sid.
        if (context.Principal!.FindFirst(TokenIssuer.SessionClaim) is { } sid)
        {
            var sessions = context.HttpContext.RequestServices.GetRequiredService<DeviceSessions>();
            if (!Guid.TryParse(sid.Value, out var sessionId) || !await sessions.IsLiveAsync(userId, sessionId, context.HttpContext.RequestAborted))
            {
                context.Fail("The session was signed out.");
                return;
            }
        }

        context.HttpContext.Features.Set(user);
    }

    private static Task WriteChallenge(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        if (context.HttpContext.Items.ContainsKey(DatabaseDownKey))
        {
            context.Response.Headers.RetryAfter = KansoExceptionHandler.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return WriteProblem(context.HttpContext, StatusCodes.Status503ServiceUnavailable, "database unavailable", "The database is unreachable; retry shortly.");
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        var (error, detail) = context.AuthenticateFailure switch
        {
            null when string.IsNullOrEmpty(context.Request.Headers.Authorization) => ("missing token", "An Authorization: Bearer <token> header is required."),
            null => ("invalid token", "The Authorization header is not a bearer token."),
            SecurityTokenExpiredException => ("token expired", "The token has expired; log in again."),
            _ => ("invalid token", "The token is malformed, wrongly signed, or revoked."),
        };
        return WriteProblem(context.HttpContext, StatusCodes.Status401Unauthorized, error, detail);
    }

    private static Task WriteProblem(HttpContext http, int status, string error, string detail)
    {
        http.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = status == 401 ? "Unauthorized" : status == 403 ? "Forbidden" : "Service unavailable", Detail = detail };
        problem.Extensions["error"] = error;
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem }).AsTask();
    }
}
