using AgentCrm.Core.Platform.Configuration;
using Npgsql;

namespace AgentCrm.Core.Platform.Data;

/// <summary>
/// Where PostgreSQL is. <see cref="Pooled"/> serves request work (PgBouncer, port 6432, in Azure);
/// <see cref="Direct"/> (port 5432) serves LISTEN and advisory locks, which need a real session.
/// <see cref="Owner"/> is the schema owner's login, for migrations only: the app's own login owns no
/// table, so row-level security applies to everything it does (DESIGN.md §4).
/// </summary>
public sealed record PostgresOptions(string Pooled, string Direct, int MaxPoolSize, int CommandTimeoutSeconds, int MaxAutoPrepare = 0, string? Owner = null)
{
    /// <summary>Who runs migrations: the owner's connection string, else <see cref="Direct"/>.</summary>
    public string MigrationConnectionString => Owner ?? Direct;

    internal const string Example = "Host=127.0.0.1;Port=6432;Database=agentcrm;Username=agentcrm;Password=<secret>";

    public static PostgresOptions Read(SettingsReader settings)
    {
        var pooled = Normalize(settings, "Postgres:Pooled", settings.RequiredString("Postgres:Pooled", Example));
        var direct = Normalize(settings, "Postgres:Direct", settings.OptionalString("Postgres:Direct")) ?? pooled;
        var owner = Normalize(settings, "Postgres:Owner", settings.OptionalString("Postgres:Owner"));
        return new PostgresOptions(
            pooled ?? string.Empty,
            direct ?? string.Empty,
            settings.WholeNumber("Postgres:MaxPoolSize", 50, 1, 1000),
            settings.WholeNumber("Postgres:CommandTimeoutSeconds", 30, 1, 3600),
            // 0 unless PgBouncer tracks prepared statements (pgbouncer.max_prepared_statements > 0, PgBouncer 1.21+).
            settings.WholeNumber("Postgres:MaxAutoPrepare", 0, 0, 1000),
            owner);
    }

    /// <summary>Accepts a keyword connection string or a postgres:// URL; reports anything Npgsql would reject.</summary>
    private static string? Normalize(SettingsReader settings, string setting, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            return PostgresConnectionString.Parse(value).ConnectionString;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException or UriFormatException)
        {
            // The value may hold a password: describe the fault, never echo the value.
            settings.Report(setting, $"is not a valid PostgreSQL connection string ({ex.GetType().Name})", Example);
            return null;
        }
    }
}
