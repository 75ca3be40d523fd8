using AgentCrm.Core.Platform.Caching;
using AgentCrm.Tests.Support;

namespace AgentCrm.Core.Tests.Caching;

public class L1StoreTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void At_the_bound_the_least_recently_used_entry_is_evicted_and_counted()
    {
        var store = new L1Store(3);
        Assert.Equal(0, store.Set(Entry("a")));
        Assert.Equal(0, store.Set(Entry("b")));
        Assert.Equal(0, store.Set(Entry("c")));
        Assert.NotNull(store.Get("a", _time.GetUtcNow())); // a is now the most recently used

        Assert.Equal(1, store.Set(Entry("d")));

        Assert.Equal(3, store.Count);
        Assert.Null(store.Get("b", _time.GetUtcNow()));
        Assert.NotNull(store.Get("a", _time.GetUtcNow()));
        Assert.NotNull(store.Get("d", _time.GetUtcNow()));
    }

    [Fact]
    public void Replacing_a_key_evicts_nothing()
    {
        var store = new L1Store(2);
        store.Set(Entry("a"));
        store.Set(Entry("b"));

        Assert.Equal(0, store.Set(Entry("a")));
        Assert.Equal(2, store.Count);
    }

    [Fact]
    public void An_expired_entry_is_not_answered_and_is_dropped()
    {
        var store = new L1Store(10);
        store.Set(Entry("a", TimeSpan.FromSeconds(5)));

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.NotNull(store.Get("a", _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(store.Get("a", _time.GetUtcNow()));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void A_conditional_remove_leaves_a_newer_entry_alone()
    {
        var store = new L1Store(10);
        var old = Entry("a");
        store.Set(old);
        var newer = Entry("a");
        store.Set(newer);

        store.Remove("a", old);

        Assert.Same(newer, store.Get("a", _time.GetUtcNow()));
    }

    private L1Entry Entry(string key, TimeSpan? ttl = null) => new(key, key, _time.GetUtcNow() + (ttl ?? TimeSpan.FromMinutes(5)), 0);
}
