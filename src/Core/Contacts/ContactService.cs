using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Http;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Usage;

namespace AgentCrm.Core.Contacts;

/// <summary>
/// Contact use cases: validate, then let the store do the work. Reads go through <see cref="ContactCache"/>;
/// every write invalidates it once committed. Unknown ids are 404 problems; a create past the tier's
/// maximum is a 403 tier-limit-reached.
/// </summary>
public sealed class ContactService(ContactStore store, ContactCache cache, TierPlans plans, TimeProvider time)
{
    public async Task<Contact> CreateAsync(WorkspaceAccess access, NewContact input, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        ContactRules.Email(errors, input.Email);
        CheckDetails(errors, input.Name, input.Phone, input.Company);
        var status = input.Status ?? ContactStatuses.Active;
        ContactRules.Status(errors, status);
        var tags = ContactRules.Tags(errors, input.Tags);
        errors.ThrowIfAny();

        var now = time.GetUtcNow();
        var contact = new Contact(Guid.CreateVersion7(now), input.Email!, input.Name, input.Phone, input.Company, status, tags, now, now, 1);
        var created = await store.InsertAsync(access, contact, plans.MaxContacts(access.Tier), cancellationToken);
        await cache.ChangedAsync(access.WorkspaceId, null);
        return created;
    }

    public async Task<Contact> GetAsync(WorkspaceAccess access, Guid id, CancellationToken cancellationToken) =>
        await cache.Contacts.GetOrLoadAsync(ContactCache.ContactKey(access.WorkspaceId, id), token => store.FindAsync(access, id, token), cancellationToken)
            ?? throw NotFound();

    public async Task<Contact> UpdateAsync(WorkspaceAccess access, Guid id, ContactPatch patch, IfMatch ifMatch, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (patch.Email.IsPresent)
        {
            ContactRules.Email(errors, patch.Email.Value);
        }

        CheckDetails(errors, patch.Name.Value, patch.Phone.Value, patch.Company.Value);
        if (patch.Status.IsPresent)
        {
            ContactRules.Status(errors, patch.Status.Value);
        }

        var tags = patch.Tags.IsPresent ? ContactRules.Tags(errors, patch.Tags.Value) : null;
        errors.ThrowIfAny();

        var updated = await store.UpdateAsync(access, id, current =>
        {
            ifMatch.Check(current.Version);
            return current with
            {
                Email = patch.Email.Or(current.Email)!,
                Name = patch.Name.Or(current.Name),
                Phone = patch.Phone.Or(current.Phone),
                Company = patch.Company.Or(current.Company),
                Status = patch.Status.Or(current.Status)!,
                Tags = tags ?? current.Tags,
            };
        }, time.GetUtcNow(), cancellationToken) ?? throw NotFound();
        await cache.ChangedAsync(access.WorkspaceId, id);
        return updated;
    }

    public async Task DeleteAsync(WorkspaceAccess access, Guid id, CancellationToken cancellationToken)
    {
        if (!await store.DeleteAsync(access, id, time.GetUtcNow(), cancellationToken))
        {
            throw NotFound();
        }

        await cache.ChangedAsync(access.WorkspaceId, id);
    }

    public async Task<Page<Contact>> ListAsync(WorkspaceAccess access, ContactFilter filter, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var page = PageRequest.Parse(limit, cursor, errors);
        var normalized = filter.Normalize(errors);
        errors.ThrowIfAny();
        return (await cache.Lists.GetOrLoadAsync(ContactCache.ListNamespace(access.WorkspaceId), ContactCache.ListKey(access.WorkspaceId, normalized, page),
            async token => await store.ListAsync(access, normalized, page, token), cancellationToken))!;
    }

    /// <summary>How many live contacts match; <paramref name="prefix"/> names the filter's place in the request for errors.</summary>
    public async Task<long> CountAsync(WorkspaceAccess access, ContactFilter filter, CancellationToken cancellationToken, string prefix = "")
    {
        var errors = new ValidationErrors();
        var normalized = filter.Normalize(errors, prefix);
        errors.ThrowIfAny();
        return await store.CountAsync(access, normalized, cancellationToken);
    }

    public static ProblemException NotFound() => new(ProblemTypes.NotFound, "No such contact in this workspace.");

    private static void CheckDetails(ValidationErrors errors, string? name, string? phone, string? company)
    {
        errors.Text("name", name, ContactRules.MaxName);
        errors.Text("company", company, ContactRules.MaxCompany);
        ContactRules.Phone(errors, phone);
    }
}
