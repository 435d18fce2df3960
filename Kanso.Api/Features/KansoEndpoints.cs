using Kanso.Api.Domain;
using Kanso.Api.Features.ChangePassword;
using Kanso.Api.Features.CreateEntry;
using Kanso.Api.Features.CreateHabit;
using Kanso.Api.Features.CreateTimeOff;
using Kanso.Api.Features.DeleteAccount;
using Kanso.Api.Features.DeleteEntry;
using Kanso.Api.Features.DeleteHabit;
using Kanso.Api.Features.DeleteTimeOff;
using Kanso.Api.Features.ExportData;
using Kanso.Api.Features.GetEntry;
using Kanso.Api.Features.GetHabit;
using Kanso.Api.Features.GetHealth;
using Kanso.Api.Features.GetSettings;
using Kanso.Api.Features.GetStats;
using Kanso.Api.Features.GetTimeOff;
using Kanso.Api.Features.ImportData;
using Kanso.Api.Features.ListEntries;
using Kanso.Api.Features.ListHabits;
using Kanso.Api.Features.ListSessions;
using Kanso.Api.Features.ListTimeOff;
using Kanso.Api.Features.Login;
using Kanso.Api.Features.Logout;
using Kanso.Api.Features.PullChanges;
using Kanso.Api.Features.PushChanges;
using Kanso.Api.Features.RefreshToken;
using Kanso.Api.Features.Register;
using Kanso.Api.Features.RevokeSession;
using Kanso.Api.Features.SyncEntriesLegacy;
using Kanso.Api.Features.SyncEvents;
using Kanso.Api.Features.SyncHabitsLegacy;
using Kanso.Api.Features.UpdateEntry;
using Kanso.Api.Features.UpdateHabit;
using Kanso.Api.Features.UpdateSettings;
using Kanso.Api.Features.UpdateTimeOff;
using Kanso.Api.Features.ValidateToken;
using Kanso.Api.Infrastructure.RateLimiting;
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
            .RequirePerUserRateLimit()
            .AddEndpointFilter<TimezoneFilter>()
            .AddEndpointFilter<VersionConflictMetrics>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapRegister();
        api.MapLogin();
        api.MapValidateToken();
        api.MapDeleteAccount();
        api.MapRefreshToken();
        api.MapListSessions();
        api.MapRevokeSession();
        api.MapLogout();
        api.MapChangePassword();
        api.MapCreateHabit();
        api.MapListHabits();
        api.MapGetHabit();
        api.MapUpdateHabit();
        api.MapDeleteHabit();
        api.MapCreateEntry();
        api.MapListEntries();
        api.MapGetEntry();
        api.MapUpdateEntry();
        api.MapDeleteEntry();
        api.MapGetStats();
        api.MapPullChanges();
        api.MapPushChanges();
        api.MapSyncEvents();
        api.MapSyncHabitsLegacy();
        api.MapSyncEntriesLegacy();
        api.MapExportData();
        api.MapImportData();
        api.MapCreateTimeOff();
        api.MapListTimeOff();
        api.MapGetTimeOff();
        api.MapUpdateTimeOff();
        api.MapDeleteTimeOff();
        api.MapGetSettings();
        api.MapUpdateSettings();
        return app;
    }
}
