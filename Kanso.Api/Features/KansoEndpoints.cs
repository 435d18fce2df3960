using Kanso.Api.Features.DeleteAccount;
using Kanso.Api.Features.GetHealth;
using Kanso.Api.Features.GetStats;
using Kanso.Api.Features.Login;
using Kanso.Api.Features.Register;
using Kanso.Api.Features.ValidateToken;
using Kanso.Api.Infrastructure.Time;

namespace Kanso.Api.Features;

internal static class KansoEndpoints
{
    public const string BasePath = "/api/v1";

    public static WebApplication MapKansoApi(this WebApplication app)
    {
        app.MapGetHealth();

        var api = app.MapGroup(BasePath)
            .RequireAuthorization()
            .AddEndpointFilter<TimezoneFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapRegister();
        api.MapLogin();
        api.MapValidateToken();
        api.MapDeleteAccount();
        api.MapGetStats();
        return app;
    }
}
