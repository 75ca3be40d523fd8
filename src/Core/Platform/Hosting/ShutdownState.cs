namespace AgentCrm.Core.Platform.Hosting;

/// <summary>Set the moment shutdown begins, so readiness turns 503 before the server stops listening.</summary>
public sealed class ShutdownState
{
    private volatile bool _stopping;

    public bool IsStopping => _stopping;

    public void MarkStopping() => _stopping = true;
}
