import Foundation

/// The pure rules of e-mail notifications: which addresses are accepted, how the operator's
/// `--mail-command` is split, and the message a sendmail-compatible program reads (RFC 5322 with
/// the Chinese subject as an RFC 2047 encoded word and the body in base64 UTF-8).
enum MailRules {
    /// A plain address `local@domain`: at most 254 characters, no spaces, quotes, angle brackets or
    /// line breaks (nothing that could add a header), a dot in the domain.
    static func isAddress(_ text: String) -> Bool {
        guard (3...254).contains(text.utf8.count) else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last, !local.isEmpty, local.count <= 64,
            domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..")
        else { return false }
        let forbidden = Set(" \t\r\n\"<>(),;:\\[]".unicodeScalars)
        return text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !forbidden.contains($0) }
    }

    /// The program and its arguments: words split on white space, a word in double quotes kept
    /// whole (`msmtp --from="Bangfu 平台" -t`). Nil when a quote is left open or nothing is given.
    static func command(_ text: String) -> [String]? {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quoted = false
        for character in text {
            if character == "\"" {
                quoted.toggle()
                inWord = true
            } else if character.isWhitespace && !quoted {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else {
                word.append(character)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return quoted || words.isEmpty ? nil : words
    }

    /// The message: `From`, `To`, the encoded `Subject`, `Date`, `Message-ID` and a base64 UTF-8
    /// text body, lines ending in CRLF.
    static func message(from: String, to: String, subject: String, body: String, date: Date, id: String) -> String {
        let headers = [
            "From: \(from)", "To: \(to)", "Subject: \(encodedWord(subject))", "Date: \(rfc5322(date))",
            "Message-ID: <\(id)@bangfu>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64", "Auto-Submitted: auto-generated",
        ]
        let encoded = Data(body.utf8).base64EncodedString()
        let lines = stride(from: 0, to: encoded.count, by: 76).map { start -> String in
            let from = encoded.index(encoded.startIndex, offsetBy: start)
            let to = encoded.index(from, offsetBy: min(76, encoded.count - start))
            return String(encoded[from..<to])
        }
        return (headers + [""] + lines).joined(separator: "\r\n") + "\r\n"
    }

    /// `=?UTF-8?B?…?=` words of at most 75 characters each, split between characters (never
    /// inside one), folded onto continuation lines; plain ASCII text stays as it is.
    static func encodedWord(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) && $0 != "=" && $0 != "?" }
        if plain && text.utf8.count <= 70 { return text }
        var words: [String] = []
        var chunk = ""
        for character in text {
            // 45 bytes encode to 60 characters, which with "=?UTF-8?B?" and "?=" fit in 75.
            if chunk.utf8.count + character.utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    /// `Sat, 05 Dec 2026 08:30:00 +0000`.
    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
