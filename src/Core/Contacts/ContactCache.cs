using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using AgentCrm.Core.Platform.Caching;
using AgentCrm.Core.Platform.Data;

namespace AgentCrm.Core.Contacts;

[JsonSerializable(typeof(Contact))]
[JsonSerializable(typeof(Page<Contact>))]
internal sealed partial class ContactCacheJson : JsonSerializerContext;

/// <summary>
/// Contact reads and list pages. Every key starts with the workspace id, and the access middleware has
/// checked the caller's membership before any of them is read. A contact is cached by id; the list
/// pages of a workspace share one namespace, so any write moves it on and every page goes stale at once.
/// Not-found is not cached: ids are fresh UUIDs, and a cached 404 would only cost an invalidation.
/// </summary>
public sealed class ContactCache(CacheFactory caches)
{
    public LayeredCache<Contact> Contacts { get; } = caches.Create(caches.Options.Policy("contact"), ContactCacheJson.Default.Contact);

    public LayeredCache<Page<Contact>> Lists { get; } = caches.Create(caches.Options.Policy("contact-list"), ContactCacheJson.Default.PageContact);

    public static string ContactKey(Guid workspaceId, Guid id) => $"{workspaceId:N}:{id:N}";

    public static string ListNamespace(Guid workspaceId) => workspaceId.ToString("N");

    /// <summary>The page's key: the workspace, then a hash of filter and position (q is free text: never in a key as it is).</summary>
    public static string ListKey(Guid workspaceId, ContactFilter filter, PageRequest page)
    {
        var query = string.Join('\0', page.Limit, page.After?.ToString("N") ?? "-", filter.Q ?? "\u0001", filter.Tag ?? "\u0001", filter.Status ?? "\u0001");
        return $"{workspaceId:N}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(query)), 0, 16)}";
    }

    /// <summary>A contact was written (or created, with no cached copy yet: <paramref name="id"/> null).</summary>
    public async Task ChangedAsync(Guid workspaceId, Guid? id)
    {
        if (id is { } written)
        {
            await Contacts.InvalidateAsync(ContactKey(workspaceId, written));
        }

        await Lists.InvalidateNamespaceAsync(ListNamespace(workspaceId));
    }
}
