using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// The command side of Redis: one multiplexed connection, reopened in the background with backoff when
/// it drops. While it is down commands fail at once (callers fall back: cache bypass, local limits)
/// instead of each waiting for a connect timeout; only the very first connection is waited for.
/// </summary>
public sealed partial class RedisClient : IRedisClient, IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly RedisConnectionSettings? _settings;
    private readonly ILogger<RedisClient> _logger;
    private readonly ReconnectBackoff _backoff;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;
    private readonly Lock _gate = new();
    private RedisConnection? _connection;
    private Task<RedisConnection>? _firstConnect;
    private Task? _reconnecting;
    private string _lastError = "not connected yet";

    public RedisClient(RedisOptions options, IRedisCredentialProvider? credentials, TimeProvider time, ILogger<RedisClient> logger)
        : this(options, RedisConnectionSettings.ForOptions(options, credentials, time), logger)
    {
    }

    internal RedisClient(RedisOptions options, RedisConnectionSettings? settings, ILogger<RedisClient> logger)
    {
        _options = options;
        _settings = settings;
        _logger = logger;
        _backoff = new ReconnectBackoff(options.ReconnectMin, options.ReconnectMax);
    }

    public bool IsConfigured => _settings is not null;

    public bool IsConnected => _connection is { IsOpen: true };

    /// <summary>Why the last connection attempt or connection failed, for health.</summary>
    public string LastError => _lastError;

    public string Key(string key) => _options.KeyPrefix + key;

    public async Task<RedisReply> ExecuteAsync(string command, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default)
    {
        var connection = await ConnectionAsync(cancellationToken);
        using var activity = RedisTelemetry.StartCommand(command, _settings!.Endpoint);
        try
        {
            return await connection.SendAsync(command, args, cancellationToken);
        }
        catch (RedisException ex)
        {
            RedisTelemetry.Failed(activity, command, ex);
            throw;
        }
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var reply = await ExecuteAsync("GET", [Key(key)], cancellationToken);
        return reply.IsNil ? null : reply.Bulk ?? throw new RedisProtocolException($"GET answered {reply.Kind}.");
    }

    public Task SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiry, CancellationToken cancellationToken = default) =>
        expiry is { } ttl
            ? ExecuteAsync("SET", [Key(key), value, "PX", Math.Max(1, (long)ttl.TotalMilliseconds)], cancellationToken)
            : ExecuteAsync("SET", [Key(key), value], cancellationToken);

    public async Task<bool> SetIfAbsentAsync(string key, ReadOnlyMemory<byte> value, TimeSpan expiry, CancellationToken cancellationToken = default) =>
        !(await ExecuteAsync("SET", [Key(key), value, "PX", Math.Max(1, (long)expiry.TotalMilliseconds), "NX"], cancellationToken)).IsNil;

    public async Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        if (keys.Count == 0)
        {
            return 0;
        }

        var args = new RedisArg[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            args[i] = Key(keys[i]);
        }

        return (await ExecuteAsync("DEL", args, cancellationToken)).AsInteger();
    }

    public async Task<long> IncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("INCRBY", [Key(key), by], cancellationToken)).AsInteger();

    public async Task<RedisReply> EvalAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken = default)
    {
        var evalArgs = new RedisArg[2 + keys.Count + args.Count];
        evalArgs[0] = script.Sha1;
        evalArgs[1] = keys.Count;
        for (var i = 0; i < keys.Count; i++)
        {
            evalArgs[2 + i] = Key(keys[i]);
        }

        for (var i = 0; i < args.Count; i++)
        {
            evalArgs[2 + keys.Count + i] = args[i];
        }

        try
        {
            return await ExecuteAsync("EVALSHA", evalArgs, cancellationToken);
        }
        catch (RedisServerException ex) when (ex.Code == "NOSCRIPT")
        {
            // A restarted or flushed server forgot it: load it once and run it again.
            await ExecuteAsync("SCRIPT", ["LOAD", script.Source], cancellationToken);
            return await ExecuteAsync("EVALSHA", evalArgs, cancellationToken);
        }
    }

    public async Task<long> PublishAsync(string channel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("PUBLISH", [Key(channel), message], cancellationToken)).AsInteger();

    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        await ExecuteAsync("PING", [], cancellationToken);
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Opens the first connection in the background, so the first requests find it ready.</summary>
    public void StartConnecting()
    {
        if (_settings is not null)
        {
            _ = ConnectionAsync(CancellationToken.None).AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes it twice: once as itself, once as the interface its factory answers.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_connection is { } connection)
        {
            await connection.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private ValueTask<RedisConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        var current = _connection;
        if (current is { IsOpen: true })
        {
            return ValueTask.FromResult(current);
        }

        return new ValueTask<RedisConnection>(WaitForConnectionAsync(cancellationToken));
    }

    private async Task<RedisConnection> WaitForConnectionAsync(CancellationToken cancellationToken)
    {
        if (_settings is null)
        {
            throw new RedisConnectionException("No Redis is configured (Redis__Url).");
        }

        Task<RedisConnection> first;
        lock (_gate)
        {
            if (_firstConnect is null)
            {
                _firstConnect = OpenAsync();
            }
            else if (_firstConnect.IsCompleted)
            {
                // Not the first time: never wait on a reconnect, fail now and let the background loop work.
                EnsureReconnecting();
                throw new RedisConnectionException($"Redis at {_settings.Endpoint} is unreachable ({_lastError}); reconnecting in the background.");
            }

            first = _firstConnect;
        }

        try
        {
            return await first.WaitAsync(cancellationToken);
        }
        catch (RedisConnectionException)
        {
            lock (_gate)
            {
                EnsureReconnecting();
            }

            throw;
        }
    }

    private async Task<RedisConnection> OpenAsync()
    {
        try
        {
            var connection = await RedisConnection.OpenAsync(_settings!, onPush: null, _stopping.Token);
            Adopt(connection);
            return connection;
        }
        catch (RedisException ex)
        {
            _lastError = ex.Message;
            LogConnectFailed(_logger, ex.Message);
            throw;
        }
    }

    private void Adopt(RedisConnection connection)
    {
        _connection = connection;
        _backoff.Reset();
        RedisTelemetry.Connected(1);
        LogConnected(_logger, _settings!.Endpoint);
        _ = connection.Closed.ContinueWith(t => OnClosed(connection, t.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnClosed(RedisConnection connection, Exception reason)
    {
        RedisTelemetry.Connected(-1);
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _lastError = reason.Message;
        LogDisconnected(_logger, reason.Message);
        lock (_gate)
        {
            if (ReferenceEquals(_connection, connection))
            {
                _connection = null;
            }

            EnsureReconnecting();
        }
    }

    private void EnsureReconnecting()
    {
        if (_reconnecting is { IsCompleted: false } || _connection is { IsOpen: true } || _stopping.IsCancellationRequested)
        {
            return;
        }

        _reconnecting = ReconnectLoopAsync();
    }

    private async Task ReconnectLoopAsync()
    {
        await Task.Yield();
        var immediate = true;
        while (!_stopping.IsCancellationRequested)
        {
            if (!immediate)
            {
                try
                {
                    await Task.Delay(_backoff.NextDelay(), _settings!.Time, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            immediate = false;
            RedisTelemetry.ReconnectAttempt();
            try
            {
                await OpenAsync();
                return;
            }
            catch (RedisException)
            {
                // logged by OpenAsync; back off and try again
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Redis connected: {Endpoint}")]
    private static partial void LogConnected(ILogger logger, RedisEndpoint endpoint);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Redis connection lost: {Reason}; reconnecting with backoff")]
    private static partial void LogDisconnected(ILogger logger, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Redis connect failed: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string reason);
}
