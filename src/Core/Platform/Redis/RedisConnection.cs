using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// One TCP (or TLS) connection, multiplexed: callers queue commands; whichever caller finds no write in
/// progress becomes the writer, writes everything queued and flushes once (so concurrent callers pipeline
/// for free, and an idle connection sends at once without waking another thread); one reader loop
/// matches replies to commands in order. A command that times out is failed on its own and its late reply dropped, so the
/// stream stays in step; anything that breaks the stream (bad RESP, a close mid-reply, a hang) fails
/// every command in flight and closes the connection, and the owner opens a new one.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly RedisConnectionSettings _settings;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly RespParser _parser;
    private readonly Action<RedisReply>? _onPush;
    private readonly ConcurrentQueue<PendingCommand> _outgoing = new();
    private readonly ConcurrentQueue<PendingCommand> _awaiting = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _sweeper;
    private ITimer? _reauth;
    private long _lastActivity;
    private int _failed;
    private int _writing;

    private RedisConnection(RedisConnectionSettings settings, Stream stream, Action<RedisReply>? onPush)
    {
        _settings = settings;
        _stream = stream;
        _onPush = onPush;
        _parser = new RespParser(settings.MaxReplyBytes);
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(minimumReadSize: 16 * 1024, leaveOpen: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        _lastActivity = settings.Time.GetTimestamp();
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(settings.CommandTimeout.TotalMilliseconds / 10, 5, 100));
        _sweeper = settings.Time.CreateTimer(_ => Sweep(), null, tick, tick);
        _ = ReadLoopAsync();
    }

    public bool IsOpen => Volatile.Read(ref _failed) == 0;

    /// <summary>Completes, with the reason, when the connection is closed for good.</summary>
    public Task<Exception> Closed => _closed.Task;

    /// <summary>Connects, then AUTH and SELECT as the endpoint and credentials say; throws <see cref="RedisConnectionException"/>.</summary>
    public static async Task<RedisConnection> OpenAsync(RedisConnectionSettings settings, Action<RedisReply>? onPush, CancellationToken cancellationToken)
    {
        var endpoint = settings.Endpoint;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (endpoint.Tls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false, settings.CertificateValidation);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = endpoint.Host }, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or AuthenticationException or OperationCanceledException)
        {
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }
            else
            {
                socket.Dispose();
            }

            cancellationToken.ThrowIfCancellationRequested();
            var reason = ex is OperationCanceledException ? $"no connection within {settings.ConnectTimeout.TotalMilliseconds} ms" : ex.Message;
            throw new RedisConnectionException($"Cannot connect to Redis at {endpoint}: {reason}", ex);
        }

        var connection = new RedisConnection(settings, stream, onPush);
        try
        {
            await connection.AuthenticateAsync(cancellationToken);
            if (endpoint.Database != 0)
            {
                await connection.SendAsync("SELECT", [endpoint.Database], cancellationToken);
            }

            return connection;
        }
        catch (Exception ex) when (ex is RedisException)
        {
            await connection.DisposeAsync();
            throw ex is RedisServerException server
                ? new RedisConnectionException($"Redis at {endpoint} refused the connection: {server.Message}", server)
                : ex;
        }
    }

    /// <summary>Queues a command; the task ends with its reply, or a <see cref="RedisException"/>.</summary>
    public Task<RedisReply> SendAsync(string command, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var now = _settings.Time.GetTimestamp();
        var pending = new PendingCommand(command, args, now, now + (long)((timeout ?? _settings.CommandTimeout).TotalSeconds * _settings.Time.TimestampFrequency));
        if (cancellationToken.CanBeCanceled)
        {
            pending.Cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((PendingCommand)state!).TrySetCanceled(token), pending);
        }

        _outgoing.Enqueue(pending);
        if (!IsOpen)
        {
            // Closed before or while queueing: Fail may already have drained the queue.
            pending.Fail(new RedisConnectionException($"The connection to Redis at {_settings.Endpoint} is closed."));
        }
        else if (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            _ = WriteQueuedAsync(); // runs here until a flush has to wait for the socket
        }

        return pending.Task;
    }

    /// <summary>Closes the connection, failing everything in flight with <paramref name="reason"/>. Idempotent.</summary>
    public void Fail(Exception reason)
    {
        if (Interlocked.Exchange(ref _failed, 1) != 0)
        {
            return;
        }

        _closing.Cancel();
        _sweeper.Dispose();
        _reauth?.Dispose();
        var first = true;
        while (_awaiting.TryDequeue(out var pending))
        {
            // The command whose reply broke the stream gets the cause; the rest were innocent bystanders.
            pending.Fail(first && reason is RedisProtocolException ? reason : AsConnectionError(reason));
            first = false;
        }

        while (_outgoing.TryDequeue(out var queued))
        {
            queued.Fail(AsConnectionError(reason));
        }

        try
        {
            _stream.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or AuthenticationException)
        {
            // Already broken: nothing more to release.
        }

        _closed.TrySetResult(reason);
    }

    public ValueTask DisposeAsync()
    {
        Fail(new RedisConnectionException($"The connection to Redis at {_settings.Endpoint} was closed by the client."));
        _closing.Dispose();
        return ValueTask.CompletedTask;
    }

    private RedisConnectionException AsConnectionError(Exception reason) => reason as RedisConnectionException
        ?? new RedisConnectionException($"The connection to Redis at {_settings.Endpoint} was dropped: {reason.Message}", reason);

    private async Task AuthenticateAsync(CancellationToken cancellationToken)
    {
        var credential = await _settings.Credentials.GetAsync(cancellationToken);
        if (credential is null)
        {
            return;
        }

        await SendAsync("AUTH", credential.User is null ? [credential.Password] : [credential.User, credential.Password], cancellationToken);
        if (credential.ExpiresAt is { } expires)
        {
            // Re-AUTH on the live connection before the token lapses (the server would drop us at expiry).
            var due = expires - _settings.Time.GetUtcNow() - TimeSpan.FromMinutes(2);
            _reauth = _settings.Time.CreateTimer(_ => _ = ReauthenticateAsync(), null, due > TimeSpan.Zero ? due : TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        }
    }

    private async Task ReauthenticateAsync()
    {
        try
        {
            _reauth?.Dispose();
            await AuthenticateAsync(_closing.Token);
        }
        catch (Exception ex) when (ex is RedisException or OperationCanceledException or HttpRequestException)
        {
            Fail(new RedisConnectionException($"Re-authenticating to Redis at {_settings.Endpoint} failed: {ex.Message}", ex));
        }
    }

    /// <summary>
    /// Writes and flushes until the queue is empty, as the one writer (<see cref="_writing"/> is 1). A caller
    /// that queued a command while it ran is picked up by the check after the writer steps down.
    /// </summary>
    private async Task WriteQueuedAsync()
    {
        try
        {
            do
            {
                while (_outgoing.TryDequeue(out var pending))
                {
                    if (pending.Task.IsCompleted)
                    {
                        continue; // timed out or cancelled before it was written: no reply will come
                    }

                    _awaiting.Enqueue(pending);
                    RespWriter.WriteCommand(_output, pending.Command, pending.Args);
                }

                var flushed = await _output.FlushAsync(_closing.Token);
                if (flushed.IsCompleted)
                {
                    return;
                }

                Volatile.Write(ref _writing, 0);
            }
            while (!_outgoing.IsEmpty && IsOpen && Interlocked.CompareExchange(ref _writing, 1, 0) == 0);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever it was, the writer role must not stay taken by a writer that is gone: close, and reconnect.
            Fail(new RedisConnectionException($"Writing to Redis at {_settings.Endpoint} failed: {ex.Message}", ex));
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync(_closing.Token);
                Volatile.Write(ref _lastActivity, _settings.Time.GetTimestamp());
                var buffer = result.Buffer;
                while (_parser.TryParse(buffer, out var reply, out var consumed))
                {
                    buffer = buffer.Slice(consumed);
                    Dispatch(reply);
                }

                _input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    Fail(new RedisConnectionException(buffer.IsEmpty
                        ? $"Redis at {_settings.Endpoint} closed the connection."
                        : $"Redis at {_settings.Endpoint} closed the connection in the middle of a reply."));
                    return;
                }
            }
        }
        catch (RedisProtocolException ex)
        {
            Fail(ex);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or AuthenticationException)
        {
            Fail(new RedisConnectionException($"Reading from Redis at {_settings.Endpoint} failed: {ex.Message}", ex));
        }
    }

    private void Dispatch(RedisReply reply)
    {
        if (_onPush is not null && IsPushMessage(reply))
        {
            _onPush(reply);
            return;
        }

        if (!_awaiting.TryDequeue(out var pending))
        {
            throw new RedisProtocolException($"Redis sent a reply nobody asked for: {Truncate(reply)}.");
        }

        pending.Complete(reply);
    }

    private static bool IsPushMessage(RedisReply reply) =>
        reply is { Kind: RedisReplyKind.Array, Items: [{ Kind: RedisReplyKind.BulkString } kind, ..] } && kind.AsString() is "message" or "pmessage";

    private static string Truncate(RedisReply reply)
    {
        var text = reply.ToString();
        return text.Length > 80 ? text[..80] + "…" : text;
    }

    /// <summary>Times out overdue commands one by one; a connection that has said nothing for a long time while owing replies is declared hung.</summary>
    private void Sweep()
    {
        if (!IsOpen)
        {
            return;
        }

        var now = _settings.Time.GetTimestamp();
        var frequency = _settings.Time.TimestampFrequency;
        foreach (var pending in _awaiting)
        {
            if (now > pending.Deadline && !pending.Task.IsCompleted)
            {
                pending.Fail(new RedisTimeoutException($"Redis did not answer {pending.Command} within {_settings.CommandTimeout.TotalMilliseconds} ms."));
            }
        }

        // Silence counts from the last byte read or the oldest owed command's sending, whichever is later:
        // an idle connection that just got a command is not hung.
        var owedSince = _awaiting.TryPeek(out var oldest) ? oldest.QueuedAt : long.MaxValue;
        var silentFor = TimeSpan.FromSeconds((double)(now - Volatile.Read(ref _lastActivity)) / frequency);
        var owedFor = TimeSpan.FromSeconds((double)(now - Math.Max(owedSince, Volatile.Read(ref _lastActivity))) / frequency);
        if (owedSince != long.MaxValue && owedFor > _settings.CommandTimeout * 3 && owedFor > TimeSpan.FromSeconds(1))
        {
            Fail(new RedisConnectionException($"Redis at {_settings.Endpoint} sent nothing for {owedFor.TotalMilliseconds:0} ms while owing replies: connection dropped."));
        }
        else if (_awaiting.IsEmpty && silentFor > _settings.KeepAlive)
        {
            Volatile.Write(ref _lastActivity, now);
            _ = SendAsync("PING", [], CancellationToken.None); // a dead peer then shows as a hang above
        }
    }
}
