namespace AgentCrm.Functions.Tests.Infrastructure;

/// <summary>Awaits a condition by polling it (for state in the database or another process), with a deadline.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultPatience = TimeSpan.FromSeconds(60);

    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? patience = null)
    {
        using var deadline = new CancellationTokenSource(patience ?? DefaultPatience);
        while (!await condition())
        {
            await Task.Delay(20, deadline.Token);
        }
    }

    public static Task TrueAsync(Func<bool> condition, TimeSpan? patience = null) => TrueAsync(() => Task.FromResult(condition()), patience);
}
