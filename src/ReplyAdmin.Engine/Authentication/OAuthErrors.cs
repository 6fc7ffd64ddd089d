using System;
using Google.Apis.Auth.OAuth2.Responses;
using Microsoft.Identity.Client;

namespace ReplyAdmin.Engine.Authentication
{
    /// <summary>
    /// Turns token-endpoint failures into errors that say what to do. The libraries' exceptions are not kept as inner
    /// exceptions: some carry the HTTP response, and nothing of a token exchange may reach an error record.
    /// </summary>
    internal static class OAuthErrors
    {
        private static readonly string[] GrantErrors = { "invalid_grant", "invalid_client", "unauthorized_client", "access_denied", "consent_required", "interaction_required" };

        /// <summary>A failure to reach the token endpoint (network, TLS, timeout), not a refusal.</summary>
        public static bool IsNetwork(Exception e, System.Threading.CancellationToken cancellationToken) =>
            e is System.Net.Http.HttpRequestException || e is System.Security.Authentication.AuthenticationException || e is System.IO.IOException
            || e is System.Net.Sockets.SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

        public static ReplyAdminException FromMsal(MsalException e, string field, bool delegated, TokenHttpClientFactory http)
        {
            var detail = FirstLine(e.Message);
            if (Innermost(e) is System.Security.Authentication.AuthenticationException || Innermost(e) is System.Net.Sockets.SocketException || Innermost(e) is System.Net.Http.HttpRequestException)
                return Unavailable(field, "the token endpoint", e, null, http);
            if (e is MsalUiRequiredException || (e is MsalServiceException && Array.IndexOf(GrantErrors, e.ErrorCode) >= 0))
                return Revoked(field, $"{e.ErrorCode}: {detail}", delegated
                    ? $"Sign in again with Connect-ReplyAccount -Target {Target(field)} as the account that runs ReplyAdmin; if that is refused too, ask the administrator whether the user's sessions or the app's consent were revoked."
                    : "In the Entra admin center, check the app registration: an unexpired certificate or secret (Certificates & secrets) that matches the credential reference, and the application permission IMAP.AccessAsApp or SMTP.SendAsApp with admin consent; then run Test-ReplyImapConnection.");
            if (e is MsalServiceException service && (service.StatusCode == 0 || service.StatusCode >= 500 || e.ErrorCode == MsalError.RequestTimeout || e.ErrorCode == MsalError.ServiceNotAvailable))
                return Unavailable(field, "the token endpoint", null, $"{e.ErrorCode}: {detail}");
            if (e.ErrorCode == "invalid_scope")
                return new ReplyAdminException(ErrorIds.OAuthScopeInvalid, ReplyAdminErrorKind.InvalidArgument,
                    $"The token endpoint refused the scope of {field}: {detail}", field, "Leave -Scope empty for the provider's default, or give the scope the server expects.");
            return new ReplyAdminException(ErrorIds.OAuthTokenRequestFailed, ReplyAdminErrorKind.AuthenticationError,
                $"No access token for {field}: {e.ErrorCode}: {detail}", field, "Check the tenant id, client id, authority and the credential references of the token source.");
        }

        public static ReplyAdminException FromGoogle(TokenResponseException e, string field)
        {
            var code = e.Error?.Error ?? "error";
            var detail = $"{code}: {e.Error?.ErrorDescription}";
            if (Array.IndexOf(GrantErrors, code) >= 0)
                return Revoked(field, detail,
                    "In the Google Admin console (Security, Access and data control, API controls, Domain-wide delegation) check that the service account's client id is listed with the scope https://mail.google.com/, that its key is not deleted or disabled, and that the mailbox user exists.");
            if ((int)e.StatusCode >= 500 || e.StatusCode == 0)
                return Unavailable(field, "Google's token endpoint", null, detail);
            return new ReplyAdminException(ErrorIds.OAuthTokenRequestFailed, ReplyAdminErrorKind.AuthenticationError,
                $"No access token for {field}: {detail}", field, "Check the service account key and the scopes.");
        }

        public static ReplyAdminException Unavailable(string field, string what, Exception e, string detail = null, TokenHttpClientFactory http = null)
        {
            var presented = http?.Presented;
            if (presented != null && !presented.Trusted && !presented.Pinned)
                return new ReplyAdminException(ErrorIds.OAuthAuthorityCertificateUntrusted, ReplyAdminErrorKind.SecurityError,
                    $"No access token for {field}: the certificate of the token endpoint is not trusted ({presented.PolicyErrors}); subject '{presented.Subject}', SHA-256 thumbprint {presented.Thumbprint}.", field,
                    $"Use an authority with a trusted certificate, or, if this is the authority you mean, pin it with -AuthorityCertificateThumbprint {presented.Thumbprint}.");
            return new ReplyAdminException(ErrorIds.OAuthTokenEndpointUnavailable, ReplyAdminErrorKind.ConnectionError,
                $"No access token for {field}: {what} cannot be reached ({detail ?? FirstLine(Innermost(e).Message)}).", field,
                "Check this machine's connection to the identity provider (proxy, firewall, DNS) and, for a private authority, its certificate pin; the next run tries again.");
        }

        private static ReplyAdminException Revoked(string field, string detail, string action) =>
            new ReplyAdminException(ErrorIds.OAuthGrantRevoked, ReplyAdminErrorKind.AuthenticationError,
                $"The identity provider refused to issue a token for {field} ({detail}): the grant, sign-in or app credential is revoked, expired or not (yet) consented.", field, action);

        private static string Target(string field) =>
            field.StartsWith("smtpRelay", StringComparison.Ordinal) ? "SmtpRelay" : field.StartsWith("source", StringComparison.Ordinal) ? "Source" : "ReplyMailbox";

        private static string FirstLine(string text)
        {
            text = text ?? string.Empty;
            var end = text.IndexOfAny(new[] { '\r', '\n' });
            return (end < 0 ? text : text.Substring(0, end)).Trim();
        }

        private static Exception Innermost(Exception e)
        {
            while (e?.InnerException != null) e = e.InnerException;
            return e ?? new Exception("unknown");
        }
    }
}
