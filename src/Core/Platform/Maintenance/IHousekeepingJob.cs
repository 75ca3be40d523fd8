namespace AgentCrm.Core.Platform.Maintenance;

/// <summary>
/// A periodic clean-up run by the Maintenance timer function. Jobs are leased in PostgreSQL for
/// <see cref="Lease"/>, so one instance runs a job at a time and a killed run frees itself when the lease
/// lapses. A job must be safe to run twice (the host may retry a timer).
/// </summary>
public interface IHousekeepingJob
{
    string Name { get; }

    TimeSpan Lease { get; }

    /// <summary>Does the work and returns a one-line summary for the invocation log.</summary>
    Task<string> RunAsync(CancellationToken cancellationToken);
}
