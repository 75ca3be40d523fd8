using System.Net;
using Microsoft.AspNetCore.Http;

namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// The address an anonymous caller is limited by. Behind the Functions host every request arrives from
/// loopback, and the platform's front end has appended the address it saw to X-Forwarded-For (as
/// "ip:port"); entries left of that came from the client and can be anything. So the header is believed
/// only when the peer is loopback, and only its right-most <c>trustedHops</c>-th entry (one proxy, the
/// platform's, by default; two with a CDN or Front Door before it). A peer that is not loopback is used
/// as it is. IPv6 callers are limited by their /64, which is what one subscriber usually holds.
/// </summary>
public static class ClientAddress
{
    public static string Resolve(HttpContext context, int trustedHops)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (peer is not null && IPAddress.IsLoopback(peer) && trustedHops > 0
            && context.Request.Headers.TryGetValue("X-Forwarded-For", out var forwarded)
            && FromForwarded(forwarded.ToString(), trustedHops) is { } client)
        {
            return Normalize(client);
        }

        return peer is null ? "unknown" : Normalize(peer);
    }

    /// <summary>The <paramref name="hops"/>-th entry from the right of an X-Forwarded-For value, without a port; null if it is not an address.</summary>
    public static IPAddress? FromForwarded(string header, int hops)
    {
        var entries = header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (entries.Length == 0)
        {
            return null;
        }

        var entry = entries[Math.Max(0, entries.Length - hops)];
        if (IPAddress.TryParse(entry, out var address))
        {
            return address; // a bare IPv4 or IPv6 address
        }

        // "1.2.3.4:5678" or "[2001:db8::1]:5678"
        return IPEndPoint.TryParse(entry, out var endpoint) ? endpoint.Address : null;
    }

    private static string Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
