namespace AgentCrm.Core.Durable.Queues;

/// <summary>How one message is put on a queue.</summary>
public sealed record QueueMessageOptions
{
    /// <summary>
    /// While a message with this key is on the queue (waiting, leased or retrying), enqueueing the same key
    /// returns that message's id instead of adding another. Once it is handled or dead-lettered the key is free.
    /// </summary>
    public string? DedupeKey { get; init; }

    /// <summary>Not delivered before this much time has passed (at most 7 days).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>The owning workspace: carried to the dead-letter store, which shows a workspace only its own.</summary>
    public string? Scope { get; init; }
}

/// <summary>The id of the message on the queue; <see cref="Duplicate"/> when its dedupe key found one already there.</summary>
public readonly record struct EnqueueResult(long MessageId, bool Duplicate);

/// <summary>How a queue's handler is fed. Defaults follow Azure Storage queue triggers.</summary>
public sealed record QueueHandlerOptions
{
    /// <summary>Messages leased per dequeue (never more than the free concurrency).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>How long a leased message stays hidden; renewed every third of it while the handler runs, so a dead worker's message reappears after at most this.</summary>
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Deliveries before a failing (or worker-killing) message is moved to the dead letters.</summary>
    public int MaxDequeueCount { get; init; } = 5;

    /// <summary>Handlers of this queue running at once in this process.</summary>
    public int MaxConcurrency { get; init; } = 16;

    /// <summary>The wait after a first failure; it doubles with each further one, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Every problem with these options, in one sentence each (empty when they are fine).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (BatchSize is < 1 or > 500)
        {
            problems.Add($"BatchSize must be 1–500 (was {BatchSize})");
        }

        if (VisibilityTimeout < TimeSpan.FromSeconds(1) || VisibilityTimeout > TimeSpan.FromHours(12))
        {
            problems.Add($"VisibilityTimeout must be 1 s–12 h (was {VisibilityTimeout})");
        }

        if (MaxDequeueCount is < 1 or > 1000)
        {
            problems.Add($"MaxDequeueCount must be 1–1000 (was {MaxDequeueCount})");
        }

        if (MaxConcurrency is < 1 or > 1000)
        {
            problems.Add($"MaxConcurrency must be 1–1000 (was {MaxConcurrency})");
        }

        if (RetryDelay < TimeSpan.Zero || MaxRetryDelay < RetryDelay || MaxRetryDelay > TimeSpan.FromDays(1))
        {
            problems.Add($"RetryDelay must be ≥ 0 and ≤ MaxRetryDelay ≤ 1 day (were {RetryDelay} and {MaxRetryDelay})");
        }

        return problems;
    }

    /// <summary>The wait before delivery number <paramref name="dequeueCount"/> + 1, after a failure.</summary>
    public TimeSpan RetryDelayAfter(int dequeueCount)
    {
        var factor = Math.Pow(2, Math.Clamp(dequeueCount - 1, 0, 30));
        return TimeSpan.FromTicks((long)Math.Min(MaxRetryDelay.Ticks, RetryDelay.Ticks * factor));
    }
}
