# syntax=docker/dockerfile:1
# Build and publish with the SDK; run on the chiseled ASP.NET runtime (no shell, no package manager,
# non-root). The runtime image listens on 8080 (its ASPNETCORE_HTTP_PORTS); set that variable to move
# it or to add a metrics port (e.g. "8080;9464" with Metrics__Port=9464).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props ./
COPY Kanso.Api/Kanso.Api.csproj Kanso.Api/
RUN dotnet restore Kanso.Api/Kanso.Api.csproj
COPY migrations/ migrations/
COPY Kanso.Api/ Kanso.Api/
RUN dotnet publish Kanso.Api/Kanso.Api.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS final
WORKDIR /app
COPY --from=build /app ./
EXPOSE 8080
# The base image's numeric non-root user (1654), so runAsNonRoot can verify it without a name lookup.
USER $APP_UID
# Liveness only: a database outage makes /health/ready 503 (traffic stops) but must not restart
# every container.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["dotnet", "/app/Kanso.Api.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "/app/Kanso.Api.dll"]
