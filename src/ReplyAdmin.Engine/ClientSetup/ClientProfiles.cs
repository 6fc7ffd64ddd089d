using System;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Xml;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.ClientSetup
{
    /// <summary>The kinds of ready-to-import mail-client profile.</summary>
    public enum ClientProfileFormat
    {
        /// <summary>Thunderbird autoconfig XML (<c>clientConfig</c> version 1.1).</summary>
        Thunderbird,
        /// <summary>An Apple configuration profile (<c>.mobileconfig</c>) with one mail account payload, for iOS, iPadOS and macOS Mail.</summary>
        AppleMobileConfig,
    }

    /// <summary>
    /// Renders <see cref="MailClientSetting"/> as client profiles. Profiles never contain a password: the client
    /// asks for it on first use.
    /// </summary>
    public static class ClientProfiles
    {
        /// <summary>The file a profile is written to when only a directory is given, e.g. <c>news.thunderbird.xml</c>.</summary>
        public static string DefaultFileName(MailClientSetting setting, ClientProfileFormat format) =>
            setting.ListName + (format == ClientProfileFormat.Thunderbird ? ".thunderbird.xml" : ".mobileconfig");

        /// <summary>The profile text in the given format.</summary>
        /// <exception cref="ReplyAdminException"><c>OutgoingServerNotConfigured</c>: both formats need an SMTP server.</exception>
        public static string Render(MailClientSetting setting, ClientProfileFormat format) =>
            format == ClientProfileFormat.Thunderbird ? Thunderbird(setting) : AppleMobileConfig(setting);

        /// <summary>
        /// Thunderbird autoconfig XML (<c>clientConfig version="1.1"</c>): served as
        /// <c>https://autoconfig.&lt;domain&gt;/mail/config-v1.1.xml</c> or placed in Thunderbird's <c>isp</c> folder.
        /// </summary>
        /// <exception cref="ReplyAdminException"><c>OutgoingServerNotConfigured</c>: no SMTP relay is configured.</exception>
        public static string Thunderbird(MailClientSetting setting)
        {
            RequireOutgoing(setting);
            return WriteXml(w =>
            {
                w.WriteStartElement("clientConfig");
                w.WriteAttributeString("version", "1.1");
                w.WriteStartElement("emailProvider");
                w.WriteAttributeString("id", setting.Domain);
                w.WriteElementString("domain", setting.Domain);
                w.WriteElementString("displayName", setting.DisplayName);
                w.WriteElementString("displayShortName", setting.ListName);

                w.WriteStartElement("incomingServer");
                w.WriteAttributeString("type", "imap");
                w.WriteElementString("hostname", setting.IncomingServer);
                w.WriteElementString("port", setting.IncomingPort.ToString(CultureInfo.InvariantCulture));
                w.WriteElementString("socketType", "SSL");
                w.WriteElementString("username", setting.IncomingUserName);
                // Thunderbird's autoconfig names the sign-in with the organisation's account (Microsoft 365, Google) "OAuth2".
                w.WriteElementString("authentication", setting.IncomingAuthentication == "OAuth2" ? "OAuth2" : "password-cleartext");
                w.WriteEndElement();

                w.WriteStartElement("outgoingServer");
                w.WriteAttributeString("type", "smtp");
                w.WriteElementString("hostname", setting.OutgoingServer);
                w.WriteElementString("port", setting.OutgoingPort.Value.ToString(CultureInfo.InvariantCulture));
                w.WriteElementString("socketType", setting.OutgoingSecurity == "STARTTLS" ? "STARTTLS" : setting.OutgoingSecurity == "SSL/TLS" ? "SSL" : "plain");
                if (setting.OutgoingUserName != null)
                {
                    w.WriteElementString("username", setting.OutgoingUserName);
                    w.WriteElementString("authentication", setting.OutgoingAuthentication == "OAuth2" ? "OAuth2" : "password-cleartext");
                }
                else
                {
                    w.WriteElementString("authentication", "none");
                }
                w.WriteEndElement();

                w.WriteEndElement(); // emailProvider
                w.WriteEndElement(); // clientConfig
            }, docType: null);
        }

        /// <summary>
        /// An Apple configuration profile: a <c>Configuration</c> payload holding one <c>com.apple.mail.managed</c>
        /// IMAP account. Identifiers and UUIDs are derived from the list and the servers, so exporting again
        /// yields a profile that replaces the installed one instead of adding a second account.
        /// </summary>
        /// <exception cref="ReplyAdminException"><c>OutgoingServerNotConfigured</c>: no SMTP relay is configured.</exception>
        public static string AppleMobileConfig(MailClientSetting setting)
        {
            RequireOutgoing(setting);
            var identifier = PayloadIdentifier(setting);
            var accountIdentifier = identifier + ".mail";
            var identity = $"{setting.EmailAddress}|{setting.IncomingServer}|{setting.IncomingUserName}";
            return WriteXml(w =>
            {
                w.WriteStartElement("plist");
                w.WriteAttributeString("version", "1.0");
                w.WriteStartElement("dict");

                Key(w, "PayloadContent");
                w.WriteStartElement("array");
                w.WriteStartElement("dict");
                String(w, "EmailAccountDescription", $"Replies to {setting.EmailAddress}");
                String(w, "EmailAccountName", setting.DisplayName);
                String(w, "EmailAccountType", "EmailTypeIMAP");
                String(w, "EmailAddress", setting.EmailAddress);
                String(w, "IncomingMailServerAuthentication", "EmailAuthPassword");
                String(w, "IncomingMailServerHostName", setting.IncomingServer);
                Integer(w, "IncomingMailServerPortNumber", setting.IncomingPort);
                Bool(w, "IncomingMailServerUseSSL", true);
                String(w, "IncomingMailServerUsername", setting.IncomingUserName);
                String(w, "OutgoingMailServerAuthentication", setting.OutgoingUserName != null ? "EmailAuthPassword" : "EmailAuthNone");
                String(w, "OutgoingMailServerHostName", setting.OutgoingServer);
                Integer(w, "OutgoingMailServerPortNumber", setting.OutgoingPort.Value);
                Bool(w, "OutgoingMailServerUseSSL", setting.OutgoingSecurity != "None");
                if (setting.OutgoingUserName != null)
                {
                    String(w, "OutgoingMailServerUsername", setting.OutgoingUserName);
                    Bool(w, "OutgoingPasswordSameAsIncomingPassword",
                        string.Equals(setting.OutgoingUserName, setting.IncomingUserName, StringComparison.Ordinal)
                        && string.Equals(setting.OutgoingServer, setting.IncomingServer, StringComparison.OrdinalIgnoreCase));
                }
                String(w, "PayloadDescription", $"IMAP account for the replies to the list '{setting.ListName}'.");
                String(w, "PayloadDisplayName", $"{setting.DisplayName} ({setting.EmailAddress})");
                String(w, "PayloadIdentifier", accountIdentifier);
                String(w, "PayloadType", "com.apple.mail.managed");
                String(w, "PayloadUUID", NameBasedUuid("mail|" + identity));
                Integer(w, "PayloadVersion", 1);
                w.WriteEndElement(); // dict
                w.WriteEndElement(); // array

                String(w, "PayloadDescription", $"Adds the shared IMAP folder with the replies to {setting.EmailAddress}. The password is asked for on installation; ask your administrator for it.");
                String(w, "PayloadDisplayName", $"Replies: {setting.DisplayName}");
                String(w, "PayloadIdentifier", identifier);
                Bool(w, "PayloadRemovalDisallowed", false);
                String(w, "PayloadType", "Configuration");
                String(w, "PayloadUUID", NameBasedUuid("profile|" + identity));
                Integer(w, "PayloadVersion", 1);

                w.WriteEndElement(); // dict
                w.WriteEndElement(); // plist
            }, docType: w => w.WriteDocType("plist", "-//Apple//DTD PLIST 1.0//EN", "http://www.apple.com/DTDs/PropertyList-1.0.dtd", null));
        }

        /// <summary>
        /// Writes <paramref name="content"/> to <paramref name="path"/> (UTF-8, no byte-order mark), creating the directory.
        /// </summary>
        /// <exception cref="ReplyAdminException"><c>ProfileExists</c> when the file exists and <paramref name="overwrite"/>
        /// is false; <c>ProfileWriteFailed</c> when it cannot be written.</exception>
        public static void WriteFile(string path, string content, bool overwrite)
        {
            if (!overwrite && File.Exists(path))
                throw new ReplyAdminException(ErrorIds.ProfileExists, ReplyAdminErrorKind.ResourceExists,
                    $"The file '{path}' already exists.", path, "Use -Force to replace it, or give another -Path.");
            try
            {
                var directory = Path.GetDirectoryName(path);
                if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
                File.WriteAllText(path, content, new UTF8Encoding(false));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException(ErrorIds.ProfileWriteFailed, ReplyAdminErrorKind.WriteError,
                    $"The profile cannot be written to '{path}': {e.Message}", path, "Check the path and its permissions.", e);
            }
        }

        /// <summary>Reverse-DNS identifier of the profile, e.g. <c>test.example.replyadmin.news</c>.</summary>
        public static string PayloadIdentifier(MailClientSetting setting)
        {
            var labels = setting.Domain.ToLowerInvariant().Split('.');
            Array.Reverse(labels);
            return string.Join(".", labels) + ".replyadmin." + setting.ListName.ToLowerInvariant();
        }

        /// <summary>A stable UUID (RFC 4122 version 5 layout, SHA-1 of the name) in Apple's upper-case form.</summary>
        public static string NameBasedUuid(string name)
        {
            byte[] hash;
            using (var sha1 = SHA1.Create())
                hash = sha1.ComputeHash(Encoding.UTF8.GetBytes("ReplyAdmin.ClientProfile:" + name));
            hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
            hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
            var hex = BitConverter.ToString(hash, 0, 16).Replace("-", "");
            return $"{hex.Substring(0, 8)}-{hex.Substring(8, 4)}-{hex.Substring(12, 4)}-{hex.Substring(16, 4)}-{hex.Substring(20, 12)}";
        }

        private static void RequireOutgoing(MailClientSetting setting)
        {
            if (setting.OutgoingServer == null || setting.OutgoingPort == null)
                throw new ReplyAdminException(ErrorIds.OutgoingServerNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                    $"A client profile for list '{setting.ListName}' needs an outgoing (SMTP) server, and no SMTP relay is configured.",
                    setting.ListName, "Configure it with Set-ReplySmtpRelay, or give staff the settings of Get-ReplyMailClientSetting -AsText.");
        }

        private static string WriteXml(Action<XmlWriter> body, Action<XmlWriter> docType)
        {
            var settings = new XmlWriterSettings
            {
                Encoding = new UTF8Encoding(false),
                Indent = true,
                IndentChars = "  ",
                NewLineChars = "\n",
                CheckCharacters = true,
            };
            using (var stream = new MemoryStream())
            {
                using (var writer = XmlWriter.Create(stream, settings))
                {
                    writer.WriteStartDocument();
                    docType?.Invoke(writer);
                    body(writer);
                    writer.WriteEndDocument();
                }
                return new UTF8Encoding(false).GetString(stream.ToArray()) + "\n";
            }
        }

        private static void Key(XmlWriter w, string key) => w.WriteElementString("key", key);

        private static void String(XmlWriter w, string key, string value)
        {
            Key(w, key);
            w.WriteElementString("string", value ?? "");
        }

        private static void Integer(XmlWriter w, string key, int value)
        {
            Key(w, key);
            w.WriteElementString("integer", value.ToString(CultureInfo.InvariantCulture));
        }

        private static void Bool(XmlWriter w, string key, bool value)
        {
            Key(w, key);
            w.WriteStartElement(value ? "true" : "false");
            w.WriteEndElement();
        }
    }
}
