namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// Commands on one multiplexed, pipelined connection (DESIGN.md §5). Every failure is a
/// <see cref="RedisException"/>; nothing here retries a command, because callers know whether theirs is
/// safe to repeat. Key arguments of the typed methods get the environment's key prefix; raw
/// <see cref="ExecuteAsync"/> arguments are sent as given (use <see cref="Key"/>).
/// </summary>
public interface IRedisClient
{
    /// <summary>False when no Redis is configured: every command then fails with <see cref="RedisConnectionException"/>.</summary>
    bool IsConfigured { get; }

    /// <summary>The command connection is up right now (a cheap, local answer).</summary>
    bool IsConnected { get; }

    /// <summary>The environment and slot prefix applied to <paramref name="key"/>.</summary>
    string Key(string key);

    Task<RedisReply> ExecuteAsync(string command, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default);

    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);

    Task SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiry, CancellationToken cancellationToken = default);

    /// <summary>SET ... NX: stores the value only if the key does not exist; true when it was stored.</summary>
    Task<bool> SetIfAbsentAsync(string key, ReadOnlyMemory<byte> value, TimeSpan expiry, CancellationToken cancellationToken = default);

    Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);

    Task<long> IncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="script"/> by EVALSHA (loading it on NOSCRIPT); keys get the prefix.</summary>
    Task<RedisReply> EvalAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default);

    /// <summary>Publishes on a channel (prefixed); returns how many subscribers got it.</summary>
    Task<long> PublishAsync(string channel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default);

    /// <summary>Round trip of a PING.</summary>
    Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Pub/sub on a connection of its own, resubscribed after every reconnect. A reconnect means messages may
/// have been missed: <see cref="Resubscribed"/> tells listeners (the L1 cache drops everything then).
/// </summary>
public interface IRedisSubscriber
{
    /// <summary>Subscribed and connected right now.</summary>
    bool IsConnected { get; }

    /// <summary>Subscribes <paramref name="handler"/> to a channel (prefixed). Handlers run on the reader: keep them short.</summary>
    Task SubscribeAsync(string channel, Action<ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken = default);

    /// <summary>Raised after the connection came back and every channel was subscribed again.</summary>
    event Action? Resubscribed;

    /// <summary>Raised when the subscription connection is lost.</summary>
    event Action? Disconnected;
}
