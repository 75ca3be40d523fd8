using AgentCrm.Core.Contacts;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;
using static AgentCrm.Functions.Endpoints.EndpointConventions;

namespace AgentCrm.Functions.Endpoints;

/// <summary>
/// /api/contacts: thin over <see cref="ContactService"/>. Responses with one contact carry its ETag;
/// PATCH honours If-Match (412 on mismatch) and without it the last write wins.
/// </summary>
public static class ContactEndpoints
{
    public static void MapContactEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/contacts", List).WithName("ListContacts").WithTags("Contacts")
            .Produces<Page<Contact>>().ProducesProblems(400);
        app.MapPost("/api/contacts", Create).WithName("CreateContact").WithTags("Contacts")
            .Produces<Contact>(StatusCodes.Status201Created).ProducesProblems(400, 409);
        app.MapGet("/api/contacts/{id}", Get).WithName("GetContact").WithTags("Contacts")
            .Produces<Contact>().ProducesProblems(404);
        app.MapPatch("/api/contacts/{id}", Update).WithName("UpdateContact").WithTags("Contacts")
            .Accepts<ContactPatch>("application/json", "application/merge-patch+json")
            .Produces<Contact>().ProducesProblems(400, 404, 409, 412);
        app.MapDelete("/api/contacts/{id}", Delete).WithName("DeleteContact").WithTags("Contacts")
            .Produces(StatusCodes.Status204NoContent).ProducesProblems(404);
    }

    private static Task<Page<Contact>> List(
        WorkspaceAccess access, ContactService contacts, string? limit, string? cursor, string? q, string? tag, string? status, CancellationToken cancellationToken) =>
        contacts.ListAsync(access, new ContactFilter(q, tag, status), limit, cursor, cancellationToken);

    private static async Task<IResult> Create(NewContact body, WorkspaceAccess access, ContactService contacts, HttpContext http, CancellationToken cancellationToken)
    {
        var contact = await contacts.CreateAsync(access, body, cancellationToken);
        return Results.Created($"/api/contacts/{contact.Id}", http.WithETag(contact, contact.Version));
    }

    private static async Task<Contact> Get(string id, WorkspaceAccess access, ContactService contacts, HttpContext http, CancellationToken cancellationToken)
    {
        var contact = await contacts.GetAsync(access, ParseId(id, ContactService.NotFound), cancellationToken);
        return http.WithETag(contact, contact.Version);
    }

    private static async Task<Contact> Update(string id, ContactPatch body, WorkspaceAccess access, ContactService contacts, HttpContext http, CancellationToken cancellationToken)
    {
        var contact = await contacts.UpdateAsync(access, ParseId(id, ContactService.NotFound), body, IfMatchOf(http), cancellationToken);
        return http.WithETag(contact, contact.Version);
    }

    private static async Task<IResult> Delete(string id, WorkspaceAccess access, ContactService contacts, CancellationToken cancellationToken)
    {
        await contacts.DeleteAsync(access, ParseId(id, ContactService.NotFound), cancellationToken);
        return Results.NoContent();
    }
}
