namespace AgentCrm.Core.Platform.Redis;

/// <summary>Anything that went wrong talking to Redis. Callers that can do without Redis catch this one type.</summary>
public class RedisException : Exception
{
    public RedisException(string message)
        : base(message)
    {
    }

    public RedisException(string message, Exception? inner)
        : base(message, inner)
    {
    }
}

/// <summary>No connection (refused, closed mid-reply, TLS or AUTH failed, not configured); the command was not, or may not have been, run.</summary>
public sealed class RedisConnectionException(string message, Exception? inner = null) : RedisException(message, inner);

/// <summary>No reply within the command timeout. The command may still run on the server.</summary>
public sealed class RedisTimeoutException(string message) : RedisException(message);

/// <summary>The server sent something that is not valid RESP, or larger than allowed; the connection was dropped to stay in step.</summary>
public sealed class RedisProtocolException(string message) : RedisException(message);

/// <summary>The server answered with an error reply (-ERR, -WRONGTYPE, -NOSCRIPT...).</summary>
public sealed class RedisServerException(string message) : RedisException(message)
{
    /// <summary>The error's first word, e.g. ERR, WRONGTYPE, NOSCRIPT.</summary>
    public string Code => Message.Split(' ', 2)[0];
}
