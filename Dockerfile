# syntax=docker/dockerfile:1
# Build and publish with the SDK; run on the chiseled ASP.NET runtime (no shell, non-root).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Kanso.sln ./
COPY Kanso.Api/Kanso.Api.csproj Kanso.Api/
RUN dotnet restore Kanso.Api/Kanso.Api.csproj
COPY migrations/ migrations/
COPY Kanso.Api/ Kanso.Api/
RUN dotnet publish Kanso.Api/Kanso.Api.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS final
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_gcServer=0
EXPOSE 8080
USER app
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["dotnet", "/app/Kanso.Api.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "/app/Kanso.Api.dll"]
