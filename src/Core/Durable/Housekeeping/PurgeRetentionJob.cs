using System.Globalization;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Platform.Maintenance;

namespace AgentCrm.Core.Durable.Housekeeping;

/// <summary>
/// Deletes instances that finished (Completed, Failed, Terminated) more than Durable:RetentionDays ago, with
/// their inbox, history, tasks and payloads, batch by batch. Live instances and children of live parents
/// stay. Stops at half its lease so the runner can record the outcome; the rest waits for the next run.
/// </summary>
public sealed class PurgeRetentionJob(TaskHubStore store, DurableOptions options, TimeProvider time) : IHousekeepingJob
{
    /// <summary>History rows one statement may delete beyond its first instance.</summary>
    public const int HistoryRowsPerBatch = 100_000;

    public string Name => "durable.purge-retention";

    public TimeSpan Lease => TimeSpan.FromMinutes(4);

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var purged = 0;
        var batches = 0;
        var finished = false;
        while (time.GetElapsedTime(started) < Lease / 2)
        {
            var deleted = await store.PurgeBatchAsync(new PurgeFilter(null, null, null, options.Retention), scope: null, options.PurgeBatchSize, HistoryRowsPerBatch, cancellationToken);
            if (deleted == 0)
            {
                finished = true;
                break;
            }

            purged += deleted;
            batches++;
        }

        var days = options.Retention.TotalDays.ToString("0.#", CultureInfo.InvariantCulture);
        return $"Purged {purged} instance(s) finished over {days} day(s) ago in {batches} batch(es)" + (finished ? "." : "; more remain for the next run.");
    }
}
