using System.Net;
using AgentCrm.Core.Platform.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace AgentCrm.Core.Tests.RateLimiting;

public class ClientAddressTests
{
    [Theory]
    [InlineData("203.0.113.7", 1, "203.0.113.7")]
    [InlineData("203.0.113.7:52344", 1, "203.0.113.7")] // the App Service front end writes ip:port
    [InlineData("10.9.9.9, 203.0.113.7:52344", 1, "203.0.113.7")] // a client's own entry on the left is not believed
    [InlineData("198.51.100.1, 203.0.113.7", 2, "198.51.100.1")] // a CDN before the front end
    [InlineData("[2001:db8:1:2:3:4:5:6]:443", 1, "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 1, "2001:db8:1:2::/64")]
    public void From_loopback_the_trusted_entry_of_x_forwarded_for_is_the_address(string header, int hops, string expected)
    {
        Assert.Equal(expected, ClientAddress.Resolve(Context(IPAddress.Loopback, header), hops));
    }

    [Fact]
    public void A_peer_that_is_not_loopback_is_used_as_it_is_whatever_it_sends()
    {
        Assert.Equal("192.0.2.10", ClientAddress.Resolve(Context(IPAddress.Parse("192.0.2.10"), "203.0.113.7"), 1));
    }

    [Theory]
    [InlineData("not an address")]
    [InlineData("")]
    public void An_unreadable_header_falls_back_to_the_peer(string header)
    {
        Assert.Equal("127.0.0.1", ClientAddress.Resolve(Context(IPAddress.Loopback, header), 1));
    }

    [Fact]
    public void No_trusted_hops_ignores_the_header()
    {
        Assert.Equal("127.0.0.1", ClientAddress.Resolve(Context(IPAddress.Loopback, "203.0.113.7"), 0));
    }

    private static DefaultHttpContext Context(IPAddress peer, string forwardedFor)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = peer;
        context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        return context;
    }
}
