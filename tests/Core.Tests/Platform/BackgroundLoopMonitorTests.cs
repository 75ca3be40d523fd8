using AgentCrm.Core.Platform.Hosting;
using AgentCrm.Tests.Support;

namespace AgentCrm.Core.Tests.Platform;

public class BackgroundLoopMonitorTests
{
    [Fact]
    public void A_loop_is_alive_until_silent_for_three_intervals()
    {
        var time = new FakeTimeProvider();
        var monitor = new BackgroundLoopMonitor(time);
        monitor.Register("worker", TimeSpan.FromSeconds(10));

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(Assert.Single(monitor.Snapshot()).Alive);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(Assert.Single(monitor.Snapshot()).Alive);

        monitor.Beat("worker");
        Assert.True(Assert.Single(monitor.Snapshot()).Alive);
    }

    [Fact]
    public void Unregistered_loops_are_not_reported()
    {
        var monitor = new BackgroundLoopMonitor(new FakeTimeProvider());
        monitor.Register("a", TimeSpan.FromSeconds(1));
        monitor.Unregister("a");
        monitor.Beat("a");

        Assert.Empty(monitor.Snapshot());
    }
}
