using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// Pub/sub on a connection of its own (a subscribed connection can run nothing else). A loop keeps it
/// open: connect, subscribe every channel asked for so far, wait for the connection to drop, back off,
/// again. After a reconnect <see cref="Resubscribed"/> fires, because messages sent meanwhile are lost.
/// </summary>
public sealed partial class RedisSubscriber : IRedisSubscriber, IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly RedisConnectionSettings? _settings;
    private readonly ILogger<RedisSubscriber> _logger;
    private readonly ConcurrentDictionary<string, Action<ReadOnlyMemory<byte>>[]> _handlers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;
    private readonly ReconnectBackoff _backoff;
    private readonly Lock _gate = new();
    private RedisConnection? _connection;
    private Task? _loop;

    public RedisSubscriber(RedisOptions options, IRedisCredentialProvider? credentials, TimeProvider time, ILogger<RedisSubscriber> logger)
        : this(options, RedisConnectionSettings.ForOptions(options, credentials, time), logger)
    {
    }

    internal RedisSubscriber(RedisOptions options, RedisConnectionSettings? settings, ILogger<RedisSubscriber> logger)
    {
        _options = options;
        _settings = settings;
        _logger = logger;
        _backoff = new ReconnectBackoff(options.ReconnectMin, options.ReconnectMax);
    }

    public event Action? Resubscribed;

    public event Action? Disconnected;

    public bool IsConnected => _connection is { IsOpen: true };

    public async Task SubscribeAsync(string channel, Action<ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken = default)
    {
        var name = _options.KeyPrefix + channel;
        var isNew = false;
        _handlers.AddOrUpdate(name, _ => { isNew = true; return [handler]; }, (_, existing) => [.. existing, handler]);
        if (_settings is null)
        {
            return; // nothing to subscribe to; callers see IsConnected false and act alone
        }

        lock (_gate)
        {
            _loop ??= RunAsync();
        }

        if (isNew && _connection is { IsOpen: true } connection)
        {
            await connection.SendAsync("SUBSCRIBE", [name], cancellationToken);
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

        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        await Task.Yield();
        var everConnected = false;
        while (!_stopping.IsCancellationRequested)
        {
            RedisConnection? connection = null;
            try
            {
                connection = await RedisConnection.OpenAsync(_settings!, OnPush, _stopping.Token);
                foreach (var channel in _handlers.Keys)
                {
                    await connection.SendAsync("SUBSCRIBE", [channel], _stopping.Token);
                }

                _connection = connection;
                _backoff.Reset();
                LogSubscribed(_logger, _handlers.Count);
                if (everConnected)
                {
                    Resubscribed?.Invoke();
                }

                everConnected = true;
                var reason = await connection.Closed.WaitAsync(_stopping.Token);
                LogLost(_logger, reason.Message);
            }
            catch (RedisException ex)
            {
                LogLost(_logger, ex.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                _connection = null;
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }

            if (everConnected)
            {
                Disconnected?.Invoke();
            }

            try
            {
                await Task.Delay(_backoff.NextDelay(), _settings!.Time, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void OnPush(RedisReply reply)
    {
        // ["message", channel, payload] (pmessage has the pattern first; we subscribe to channels only).
        var items = reply.AsArray();
        if (items.Count != 3 || items[1].Bulk is not { } channel || items[2].Bulk is not { } payload)
        {
            return;
        }

        if (_handlers.TryGetValue(Encoding.UTF8.GetString(channel), out var handlers))
        {
            foreach (var handler in handlers)
            {
                try
                {
                    handler(payload);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    LogHandlerFailed(_logger, ex);
                }
            }
        }
    }

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Redis pub/sub connected, {Channels} channel(s) subscribed")]
    private static partial void LogSubscribed(ILogger logger, int channels);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "Redis pub/sub connection lost: {Reason}")]
    private static partial void LogLost(ILogger logger, string reason);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Error, Message = "A Redis pub/sub handler failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception);
}
