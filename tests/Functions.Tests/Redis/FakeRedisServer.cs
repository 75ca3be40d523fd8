using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentCrm.Functions.Tests.Redis;

/// <summary>
/// A Redis stand-in that misbehaves on purpose: it answers AUTH, PING, SELECT and "GET ok" properly,
/// and for "GET &lt;fault&gt;" sends what the test scripted (garbage, an oversized reply, half a reply then
/// a close, or a reply only after a delay). Every connection it accepted is counted, so tests can see a
/// reconnect.
/// </summary>
public sealed class FakeRedisServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, Func<NetworkStream, Task>> _faults = new(StringComparer.Ordinal);
    private int _connections;

    public FakeRedisServer()
    {
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Url => $"redis://127.0.0.1:{Port}";

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>What the server does when it is sent GET <paramref name="key"/>.</summary>
    public void On(string key, Func<NetworkStream, Task> reply) => _faults[key] = reply;

    public static Func<NetworkStream, Task> Send(string raw) => stream => stream.WriteAsync(Encoding.ASCII.GetBytes(raw)).AsTask();

    public static Func<NetworkStream, Task> SendThenClose(string raw) => async stream =>
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(raw));
        await stream.FlushAsync();
        stream.Socket.Shutdown(SocketShutdown.Both);
        stream.Close();
    };

    public static Func<NetworkStream, Task> After(TimeSpan delay, string raw) => async stream =>
    {
        await Task.Delay(delay);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(raw));
    };

    /// <summary>Never answers. (Waits on the server's own token: an unrooted endless wait would let the GC close the socket.)</summary>
    public Func<NetworkStream, Task> Hang => _ => Task.Delay(Timeout.InfiniteTimeSpan, _stopping.Token);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var reader = new StreamReader(stream, Encoding.ASCII);
        try
        {
            // Replies are written in order per connection, like Redis: a delayed reply delays the ones after it.
            while (await ReadCommandAsync(reader) is { } command)
            {
                var reply = command switch
                {
                    ["AUTH", ..] or ["SELECT", _] => Send("+OK\r\n"),
                    ["PING"] => Send("+PONG\r\n"),
                    ["GET", var key] when _faults.TryGetValue(key, out var fault) => fault,
                    ["GET", var key] => Send($"${key.Length}\r\n{key}\r\n"),
                    _ => Send($"-ERR fake server does not know {command[0]}\r\n"),
                };
                await reply(stream);
                if (!client.Connected)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
            // the client went away, or a fault closed the socket
        }
    }

    private static async Task<string[]?> ReadCommandAsync(StreamReader reader)
    {
        var header = await reader.ReadLineAsync();
        if (header is null || header.Length < 2 || header[0] != '*')
        {
            return null;
        }

        var parts = new string[int.Parse(header[1..])];
        for (var i = 0; i < parts.Length; i++)
        {
            _ = await reader.ReadLineAsync(); // $len
            parts[i] = await reader.ReadLineAsync() ?? string.Empty;
        }

        return parts;
    }
}
