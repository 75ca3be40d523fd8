using AgentCrm.Core.Platform.Configuration;
using AgentCrm.Core.Platform.Data;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Functions.Cli;

/// <summary>
/// `migrate`: applies pending migrations over the direct connection (the deploy runs it before any
/// slot serves the new build). `--status` only reports, exiting 3 when the schema is not current.
/// </summary>
public sealed class MigrateVerb : CliVerb
{
    public const int NotCurrent = 3;

    public override string Name => "migrate";

    public override string Summary => "Apply pending database migrations (or report with --status).";

    public override string Usage => """
        Usage: AgentCrm.Functions migrate [--status]

        Applies the migrations this build carries that the database lacks, in order, under one advisory
        lock (concurrent runs wait their turn). Refuses to run if an applied migration file was edited.
        Connects as the schema owner: Postgres__Owner (falls back to Postgres__Direct, then Postgres__Pooled).

          --status   Report only: applied, pending and edited migrations. Exit 0 when current, 3 otherwise.

        Exit codes: 0 done, 1 a migration failed or was edited, 2 usage, 3 not current (--status), 78 configuration.
        """;

    public override async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var statusOnly = false;
        foreach (var arg in args)
        {
            if (arg == "--status")
            {
                statusOnly = true;
            }
            else
            {
                await error.WriteLineAsync($"Unknown option \"{arg}\".{Environment.NewLine}{Usage}");
                return CliVerbs.UsageError;
            }
        }

        await using var dataSources = DatabaseFromEnvironment();
        var runner = new MigrationRunner(dataSources, MigrationCatalog.Embedded, NullLogger<MigrationRunner>.Instance);
        if (statusOnly)
        {
            var state = await runner.InspectAsync(dataSources.Owner, cancellationToken);
            await output.WriteLineAsync($"Database version {state.DatabaseVersion}; this build expects {state.ExpectedVersion}.");
            await output.WriteLineAsync($"Pending: {(state.Pending.Count == 0 ? "none" : string.Join(", ", state.Pending))}");
            await output.WriteLineAsync($"Edited after applying: {(state.Edited.Count == 0 ? "none" : string.Join(", ", state.Edited))}");
            return state.Edited.Count > 0 ? 1 : state.IsCurrent ? 0 : NotCurrent;
        }

        var report = await runner.MigrateAsync(cancellationToken);
        foreach (var migration in report.Applied)
        {
            await output.WriteLineAsync($"Applied {migration.Name}");
        }

        await output.WriteLineAsync(report.Applied.Count == 0
            ? $"Nothing to apply: {report.AlreadyApplied} migration(s) already applied; schema at version {report.LatestVersion}."
            : $"Applied {report.Applied.Count} migration(s); schema at version {report.LatestVersion}.");
        return 0;
    }
}
