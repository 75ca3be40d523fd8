using System.Diagnostics;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentCrm.Core.Platform.Maintenance;

/// <summary>
/// Runs every registered job once: claims its lease (using the database clock, so instance clocks do
/// not matter), runs it within the lease, records the outcome, and carries on past a failing job so
/// one bad job does not starve the rest.
/// </summary>
public sealed partial class HousekeepingRunner(
    IEnumerable<IHousekeepingJob> jobs, PostgresDataSources dataSources, AppInfo app, TimeProvider time, ILogger<HousekeepingRunner> logger)
{
    public IReadOnlyList<string> JobNames { get; } = [.. jobs.Select(j => j.Name)];

    public async Task<IReadOnlyList<JobOutcome>> RunAllAsync(CancellationToken cancellationToken)
    {
        var outcomes = new List<JobOutcome>();
        foreach (var job in jobs)
        {
            outcomes.Add(await RunAsync(job, cancellationToken));
        }

        return outcomes;
    }

    private async Task<JobOutcome> RunAsync(IHousekeepingJob job, CancellationToken cancellationToken)
    {
        var owner = $"{app.Instance}/{Guid.NewGuid():N}";
        if (!await TryClaimAsync(job, owner, cancellationToken))
        {
            LogSkipped(logger, job.Name);
            return new JobOutcome(job.Name, JobResult.Skipped, "Another instance holds this job's lease.", TimeSpan.Zero);
        }

        var startedAt = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        using var leaseBound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        leaseBound.CancelAfter(job.Lease);
        try
        {
            var summary = await job.RunAsync(leaseBound.Token);
            await RecordAsync(job, owner, startedAt, succeeded: true, summary, error: null, cancellationToken);
            LogSucceeded(logger, job.Name, watch.Elapsed.TotalMilliseconds, summary);
            return new JobOutcome(job.Name, JobResult.Succeeded, summary, watch.Elapsed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var error = ex is OperationCanceledException ? $"Exceeded its lease of {job.Lease}." : $"{ex.GetType().Name}: {ex.Message}";
            LogFailed(logger, ex, job.Name);
            await RecordAsync(job, owner, startedAt, succeeded: false, summary: null, error, cancellationToken);
            return new JobOutcome(job.Name, JobResult.Failed, error, watch.Elapsed);
        }
    }

    // One atomic statement: insert the job's row on first sight, or take the lease only if it is free or lapsed.
    private async Task<bool> TryClaimAsync(IHousekeepingJob job, string owner, CancellationToken cancellationToken)
    {
        await using var command = dataSources.Pooled.CreateCommand("""
            INSERT INTO maintenance_jobs AS j (name, lease_owner, lease_expires_at, last_started_at)
            VALUES ($1, $2, now() + $3, now())
            ON CONFLICT (name) DO UPDATE
               SET lease_owner = excluded.lease_owner, lease_expires_at = excluded.lease_expires_at, last_started_at = excluded.last_started_at
             WHERE j.lease_expires_at IS NULL OR j.lease_expires_at < now()
            RETURNING 1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = job.Name });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = job.Lease });
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private async Task RecordAsync(
        IHousekeepingJob job, string owner, DateTimeOffset startedAt, bool succeeded, string? summary, string? error, CancellationToken cancellationToken)
    {
        // Release only our own lease: a run that overstayed must not free a lease another instance now holds.
        await using var batch = dataSources.Pooled.CreateBatch();
        var outcome = succeeded ? "succeeded" : "failed";
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            UPDATE maintenance_jobs
               SET lease_owner = NULL, lease_expires_at = NULL, last_finished_at = now(), last_outcome = $3, last_error = $4
             WHERE name = $1 AND lease_owner = $2
            """)
        {
            Parameters = { new() { Value = job.Name }, new() { Value = owner }, new() { Value = outcome }, new() { Value = (object?)error ?? DBNull.Value } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO maintenance_job_runs (job, instance, started_at, finished_at, outcome, summary, error)
            VALUES ($1, $2, $3, now(), $4, $5, $6)
            """)
        {
            Parameters =
            {
                new() { Value = job.Name }, new() { Value = app.Instance }, new() { Value = startedAt }, new() { Value = outcome },
                new() { Value = (object?)summary ?? DBNull.Value }, new() { Value = (object?)error ?? DBNull.Value },
            },
        });
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Housekeeping job {Job} succeeded in {DurationMs:0} ms: {Summary}")]
    private static partial void LogSucceeded(ILogger logger, string job, double durationMs, string summary);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Housekeeping job {Job} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string job);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Housekeeping job {Job} skipped: another instance holds its lease")]
    private static partial void LogSkipped(ILogger logger, string job);
}

public enum JobResult
{
    Succeeded,
    Failed,
    Skipped,
}

public sealed record JobOutcome(string Job, JobResult Result, string Detail, TimeSpan Duration);
