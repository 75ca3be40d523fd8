namespace AgentCrm.Core.Platform.Redis;

/// <summary>A command on its way: written in order, answered in order, failed on its own at its deadline.</summary>
internal sealed class PendingCommand(string command, IReadOnlyList<RedisArg> args, long queuedAt, long deadline)
    : TaskCompletionSource<RedisReply>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public string Command { get; } = command;

    public IReadOnlyList<RedisArg> Args { get; } = args;

    /// <summary>TimeProvider timestamp of when the caller queued it.</summary>
    public long QueuedAt { get; } = queuedAt;

    /// <summary>TimeProvider timestamp after which the caller is told it timed out (its reply, when it comes, is dropped).</summary>
    public long Deadline { get; } = deadline;

    public CancellationTokenRegistration Cancellation { get; set; }

    public void Complete(RedisReply reply)
    {
        Cancellation.Dispose();
        if (reply.Kind == RedisReplyKind.Error)
        {
            TrySetException(new RedisServerException(reply.Text ?? "ERR"));
        }
        else
        {
            TrySetResult(reply);
        }
    }

    public void Fail(Exception error)
    {
        Cancellation.Dispose();
        TrySetException(error);
    }
}
